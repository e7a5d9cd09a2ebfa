//! Differential fuzzing of SyncMap against std HashMap (see TESTING.md).
