//! Scope parsing and whole-entry matching.
