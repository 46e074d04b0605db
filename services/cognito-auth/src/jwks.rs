//! JWKS fetching and caching: one cache per URL, refetch on unknown kid with a penalty box.
