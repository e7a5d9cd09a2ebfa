module syncmap-bench/go-pathology

go 1.19
