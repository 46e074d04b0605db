//! Per-scope token cache with single flight and renewal before expiry.
