//! cognito-authorizer library: the verifier and a route policy in front of any HTTP API, as a
//! reverse proxy (`UPSTREAM_URL`), an Envoy HTTP `ext_authz` service and an ingress-nginx
//! `auth-url`. `main` fills the settings from the command line and calls `start`.

pub mod proxy;
