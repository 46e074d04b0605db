//! A real Envoy with the HTTP `ext_authz` filter Istio's control plane builds for an
//! `envoyExtAuthzHttp` extension provider (istio/istio `pilot/pkg/security/authz/builder/
//! extauthz.go`, `generateHTTPConfig`), in front of one upstream.
//!
//! The mapping, field by field: `pathPrefix` -> `http_service.path_prefix`;
//! `includeRequestHeadersInCheck` -> `authorization_request.allowed_headers`;
//! `headersToUpstreamOnAllow` -> `authorization_response.allowed_upstream_headers`;
//! `headersToDownstreamOnDeny` -> `authorization_response.allowed_client_headers`;
//! `headersToDownstreamOnAllow` -> `allowed_client_headers_on_success`; each header name an
//! exact, case-insensitive matcher (`*` at one end a prefix or suffix matcher); `failOpen` ->
//! `failure_mode_allow`; `timeout` (default 600s) -> `server_uri.timeout`;
//! `transport_api_version: V3`. `service` and `port` name the authorizer's Service, here its
//! loopback address. Istio also limits the filter to the workloads a `CUSTOM` policy selects
//! (`filter_enabled_metadata`); this listener stands for such a workload with `rules: [{}]`.

use std::process::Command;

use serde_json::{Value as Json, json};
use serde_yaml_ng::Value;
use test_support::{Process, free_port, temp_volume, tool};

use super::docs::strings;
use super::wait_for_listener;

/// A running Envoy; killed when dropped.
#[derive(Debug)]
pub struct Envoy {
    /// The process.
    pub process: Process,
    /// `http://127.0.0.1:PORT`: the listener the client calls.
    pub base: String,
}

impl Envoy {
    /// Starts Envoy with the `ext_authz` filter for `provider` (an `envoyExtAuthzHttp` object)
    /// calling the authorizer on `authorizer_port`, routing allowed requests to `upstream_port`.
    pub fn start(provider: &Value, authorizer_port: u16, upstream_port: u16) -> Self {
        let port = free_port();
        let bootstrap = bootstrap(provider, port, authorizer_port, upstream_port);
        let dir = temp_volume("envoy");
        let config = dir.join("envoy.json");
        std::fs::write(&config, bootstrap.to_string()).expect("write the Envoy bootstrap");
        let mut command = Command::new(tool("envoy"));
        command
            .arg("--config-path")
            .arg(&config)
            .args(["--concurrency", "1", "--log-level", "warning"])
            .arg("--disable-hot-restart");
        let mut process = Process::spawn("envoy", command);
        wait_for_listener(port, &mut process);
        Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// The `ext_authz` filter's `typed_config` for `provider`, as Istio builds it.
pub fn ext_authz_filter(provider: &Value) -> Json {
    let field = |name: &str| provider.get(name).cloned().unwrap_or(Value::Null);
    let host = field("service")
        .as_str()
        .expect("envoyExtAuthzHttp.service")
        .to_owned();
    let mut http_service = json!({
        "server_uri": {
            "uri": format!("http://{host}"),
            "cluster": "authorizer",
            "timeout": field("timeout").as_str().unwrap_or("600s"),
        },
        "path_prefix": field("pathPrefix").as_str().unwrap_or(""),
    });
    if let Some(allowed) = matchers(&field("includeRequestHeadersInCheck")) {
        http_service["authorization_request"] = json!({ "allowed_headers": allowed });
    }
    let mut response = serde_json::Map::new();
    for (from, to) in [
        ("headersToUpstreamOnAllow", "allowed_upstream_headers"),
        ("headersToDownstreamOnDeny", "allowed_client_headers"),
        (
            "headersToDownstreamOnAllow",
            "allowed_client_headers_on_success",
        ),
    ] {
        if let Some(list) = matchers(&field(from)) {
            response.insert(to.to_owned(), list);
        }
    }
    if !response.is_empty() {
        http_service["authorization_response"] = Json::Object(response);
    }
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
        "transport_api_version": "V3",
        "failure_mode_allow": field("failOpen").as_bool().unwrap_or(false),
        "http_service": http_service,
    })
}

/// Istio's `generateHeaders`: one case-insensitive matcher per name; `None` for no names.
fn matchers(names: &Value) -> Option<Json> {
    let patterns: Vec<Json> = strings(names)
        .iter()
        .map(|name| {
            let mut pattern = if let Some(suffix) = name.strip_prefix('*') {
                json!({ "suffix": suffix })
            } else if let Some(prefix) = name.strip_suffix('*') {
                json!({ "prefix": prefix })
            } else {
                json!({ "exact": name })
            };
            pattern["ignore_case"] = json!(true);
            pattern
        })
        .collect();
    (!patterns.is_empty()).then(|| json!({ "patterns": patterns }))
}

fn bootstrap(provider: &Value, port: u16, authorizer_port: u16, upstream_port: u16) -> Json {
    let cluster = |name: &str, port: u16| {
        json!({
            "name": name,
            "type": "STATIC",
            "connect_timeout": "2s",
            "load_assignment": {
                "cluster_name": name,
                "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                    "socket_address": { "address": "127.0.0.1", "port_value": port }
                } } }] }],
            },
        })
    };
    json!({
        "static_resources": {
            "listeners": [{
                "name": "workload",
                "address": { "socket_address": { "address": "127.0.0.1", "port_value": port } },
                "filter_chains": [{ "filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "workload",
                        "route_config": { "virtual_hosts": [{
                            "name": "workload",
                            "domains": ["*"],
                            "routes": [{ "match": { "prefix": "/" }, "route": { "cluster": "upstream" } }],
                        }] },
                        "http_filters": [
                            { "name": "envoy.filters.http.ext_authz", "typed_config": ext_authz_filter(provider) },
                            { "name": "envoy.filters.http.router", "typed_config": {
                                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                            } },
                        ],
                    },
                }] }],
            }],
            "clusters": [cluster("authorizer", authorizer_port), cluster("upstream", upstream_port)],
        },
    })
}
