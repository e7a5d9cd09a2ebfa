//! A service registry: the same services by name and by numeric id, in one derived struct.
//! Registration, duplicate rejection (with the rejected service handed back), lookups by either
//! key, a concurrent registration race, unregistration and snapshots.
//!
//! ```text
//! cargo run -p syncmap-examples --example service_registry
//! ```

use std::ops::ControlFlow;
use std::sync::{Arc, Barrier};
use std::thread;
use syncmap_typed::{Registry, SyncMap};

#[derive(Debug, PartialEq)]
struct Service {
    id: u32,
    name: String,
    endpoint: String,
}

fn service(id: u32, name: &str, endpoint: &str) -> Service {
    Service {
        id,
        name: name.to_string(),
        endpoint: endpoint.to_string(),
    }
}

#[derive(Registry, Default)]
struct Services {
    /// Services by name.
    #[registry(item = service)]
    by_name: SyncMap<String, Arc<Service>>,
    /// The same services by numeric id.
    #[registry(item = service_by_id)]
    by_id: SyncMap<u32, Arc<Service>>,
}

impl Services {
    /// Registers `service` under its id and its name, or under neither.
    ///
    /// The two maps are not updated atomically together (no map offers a multi-key
    /// transaction): a lookup may briefly find the service by id and not yet by name.
    fn add(&self, service: Service) -> Result<Arc<Service>, String> {
        let service = Arc::new(service);
        self.register_service_by_id(service.id, Arc::clone(&service))
            .map_err(|err| format!("{err} (by {})", err.existing.name))?;
        if let Err(err) = self.register_service(service.name.clone(), Arc::clone(&service)) {
            // Undo the id registration, unless someone replaced it meanwhile.
            self.by_id().compare_and_remove(&service.id, &service);
            return Err(format!("{err} (id {})", err.existing.id));
        }
        Ok(service)
    }

    /// Unregisters the service called `name` from both maps.
    fn unregister(&self, name: &str) -> Option<Arc<Service>> {
        let service = self.remove_service(name)?;
        self.by_id().compare_and_remove(&service.id, &service);
        Some(service)
    }

    /// Every service, ordered by id.
    fn list(&self) -> Vec<Arc<Service>> {
        let mut services: Vec<_> = self
            .service_by_id_snapshot()
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        services.sort_by_key(|s| s.id);
        services
    }

    fn print(&self) {
        for s in self.list() {
            println!("  {:>3}  {:<10} {}", s.id, s.name, s.endpoint);
        }
    }
}

fn main() {
    let services = Services::default();

    println!("== register");
    for s in [
        service(1, "auth", "10.0.0.1:443"),
        service(2, "billing", "10.0.0.2:8080"),
        service(3, "search", "10.0.0.3:9200"),
    ] {
        let s = services.add(s).expect("fresh");
        println!("registered {} as #{}", s.name, s.id);
    }

    println!("\n== duplicates are rejected");
    match services.add(service(4, "auth", "10.0.0.9:443")) {
        Ok(_) => unreachable!("the name `auth` is taken"),
        Err(err) => println!("rejected: {err}"),
    }
    println!(
        "id 4 rolled back: {}",
        if services.contains_service_by_id(&4) {
            "no"
        } else {
            "yes"
        }
    );
    match services.add(service(2, "payments", "10.0.0.7:8080")) {
        Ok(_) => unreachable!("the id 2 is taken"),
        Err(err) => println!("rejected: {err}"),
    }
    // The typed error hands the rejected value back, so nothing is lost.
    let err = services
        .register_service("search".into(), Arc::new(service(9, "search", "backup")))
        .unwrap_err();
    println!(
        "rejected: {err}; got back the offered service with endpoint {:?}",
        err.value.endpoint
    );

    println!("\n== lookups by either key (owned Arcs, never guards)");
    let by_name = services.service("billing").expect("registered");
    let by_id = services.service_by_id(&2).expect("registered");
    println!(
        "service(\"billing\") -> #{}; service_by_id(2) -> {}; same instance: {}",
        by_name.id,
        by_id.name,
        Arc::ptr_eq(&by_name, &by_id)
    );
    let on_port_9200 = services.for_each_service(|name, s| {
        if s.endpoint.ends_with(":9200") {
            ControlFlow::Break(name.clone())
        } else {
            ControlFlow::Continue(())
        }
    });
    println!("first service on port 9200: {on_port_9200:?}");

    println!("\n== 8 threads race to register `cache`");
    let barrier = Barrier::new(8);
    let winners: Vec<u32> = thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (services, barrier) = (&services, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let id = 100 + t;
                    services
                        .add(service(id, "cache", &format!("10.0.1.{t}:6379")))
                        .ok()
                        .map(|s| s.id)
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(winners.len(), 1, "exactly one registration wins");
    println!("exactly one thread won; the others were rejected and rolled back their ids");
    assert_eq!(services.by_id().len(), services.by_name().len());

    println!("\n== unregister `billing`");
    let gone = services.unregister("billing").expect("registered");
    println!(
        "unregistered {} (#{}); still known by id: {}",
        gone.name,
        gone.id,
        services.contains_service_by_id(&gone.id)
    );

    println!("\n== snapshot ({} services)", services.by_name().len());
    services.print();
}
