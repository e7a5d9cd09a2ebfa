//! [`RegisterError`], the error of the derived `register_*` methods.

use core::fmt;
use std::sync::Arc;

/// The error of a derived `register_*` method: the key already had a value.
///
/// It hands the rejected value back, with the key and the value already registered, so nothing
/// is lost. Its `Display` names the item and the key:
///
/// ```
/// use syncmap_typed::{Registry, SyncMap};
///
/// #[derive(Registry, Default)]
/// struct Codecs {
///     #[registry(item = codec)]
///     codecs: SyncMap<String, u32>,
/// }
///
/// let codecs = Codecs::default();
/// codecs.register_codec("gzip".to_string(), 1).unwrap();
/// let err = codecs.register_codec("gzip".to_string(), 2).unwrap_err();
/// assert_eq!(err.to_string(), r#"codec "gzip" is already registered"#);
/// assert_eq!((*err.existing, err.value), (1, 2)); // the rejected value comes back
/// assert_eq!(err.into_value(), 2);
/// ```
///
/// `Debug` and `Display` need only `K: Debug`: values are often trait objects without `Debug`,
/// and an error should still convert into `Box<dyn Error>`.
#[non_exhaustive]
pub struct RegisterError<K, V> {
    /// What the registry calls its values: the field's `item` name, such as `"handler"`.
    pub item: &'static str,
    /// The key that already had a value.
    pub key: K,
    /// The value registered under `key` when the registration was attempted.
    pub existing: Arc<V>,
    /// The value that was offered and not registered.
    pub value: V,
}

impl<K, V> RegisterError<K, V> {
    /// Builds the error; the derived methods call this, and hand-written registries may too.
    pub fn new(item: &'static str, key: K, existing: Arc<V>, value: V) -> Self {
        RegisterError {
            item,
            key,
            existing,
            value,
        }
    }

    /// Takes back the value that was not registered.
    pub fn into_value(self) -> V {
        self.value
    }
}

impl<K: fmt::Debug, V> fmt::Debug for RegisterError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterError")
            .field("item", &self.item)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<K: fmt::Debug, V> fmt::Display for RegisterError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?} is already registered", self.item, self.key)
    }
}

impl<K: fmt::Debug, V> std::error::Error for RegisterError<K, V> {}
