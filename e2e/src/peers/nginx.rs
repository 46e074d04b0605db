//! A real nginx configured as ingress-nginx's template (`rootfs/etc/nginx/template/nginx.tmpl`)
//! renders an Ingress with the external-authentication annotations, in front of one upstream.
//!
//! What the annotations become: `auth-url` -> an internal location `/_external-auth-...` that
//! proxies a body-less subrequest to that URL with `X-Original-URL
//! $scheme://$http_host$request_uri`, `X-Original-Method $request_method` and the template's
//! other headers; the Ingress's location
//! gets `auth_request` to it; each `auth-response-headers` name `N` -> `auth_request_set
//! $authHeaderI $upstream_http_N` (dashes as underscores, lowercase) and `proxy_set_header 'N'
//! $authHeaderI` (`buildAuthResponseHeaders`); `auth-method` -> `proxy_method` plus
//! `X-Original-URI` and `X-Scheme`. The URL's host (a cluster DNS name) is replaced by the
//! authorizer's loopback address; its scheme and path are kept.

use std::fmt::Write as _;
use std::process::Command;

use serde_yaml_ng::Value;
use test_support::{Process, free_port, temp_volume, tool};

use super::wait_for_listener;

const ANNOTATION: &str = "nginx.ingress.kubernetes.io/";

/// A running nginx; killed when dropped.
#[derive(Debug)]
pub struct Nginx {
    /// The process.
    pub process: Process,
    /// `http://127.0.0.1:PORT`: the server the client calls.
    pub base: String,
}

impl Nginx {
    /// Starts nginx for `ingress` (an Ingress object with the auth annotations), checking with
    /// the authorizer on `authorizer_port` and proxying allowed requests to `upstream_port`.
    pub fn start(ingress: &Value, authorizer_port: u16, upstream_port: u16) -> Self {
        let port = free_port();
        let dir = temp_volume("nginx");
        for temp in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(dir.join(temp)).expect("create nginx's temp folders");
        }
        let conf = config(
            ingress,
            &dir.display().to_string(),
            port,
            authorizer_port,
            upstream_port,
        );
        std::fs::write(dir.join("nginx.conf"), conf).expect("write nginx.conf");
        let mut command = Command::new(tool("nginx"));
        command
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"));
        let mut process = Process::spawn("nginx", command);
        wait_for_listener(port, &mut process);
        Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

fn annotation<'a>(ingress: &'a Value, name: &str) -> Option<&'a str> {
    ingress["metadata"]["annotations"]
        .get(format!("{ANNOTATION}{name}"))
        .and_then(Value::as_str)
}

/// nginx.conf for `ingress`: one server, the auth location and the protected location.
pub fn config(
    ingress: &Value,
    dir: &str,
    port: u16,
    authorizer_port: u16,
    upstream_port: u16,
) -> String {
    let auth_url: reqwest::Url = annotation(ingress, "auth-url")
        .expect("the Ingress has nginx.ingress.kubernetes.io/auth-url")
        .parse()
        .expect("auth-url is a URL");
    let auth_host = auth_url.host_str().expect("auth-url has a host").to_owned();
    let mut target = auth_url.clone();
    target.set_host(Some("127.0.0.1")).expect("an IP host");
    target.set_port(Some(authorizer_port)).expect("a port");
    let method = annotation(ingress, "auth-method").map(|m| {
        format!(
            "proxy_method {m};\n      proxy_set_header X-Original-URI $request_uri;\n      \
             proxy_set_header X-Scheme $scheme;\n      "
        )
    });
    let mut response_headers = String::new();
    let names = annotation(ingress, "auth-response-headers").unwrap_or("");
    for (i, name) in names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .enumerate()
    {
        let variable = name.to_lowercase().replace('-', "_");
        let _ = write!(
            response_headers,
            "auth_request_set $authHeader{i} $upstream_http_{variable};\n      \
             proxy_set_header '{name}' $authHeader{i};\n      "
        );
    }
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location = /_external-auth-Lw-Prefix {{
      internal;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Proto "";
      proxy_set_header X-Request-ID $request_id;
      {method}proxy_set_header Host {auth_host};
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Sent-From "nginx-ingress-controller";
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Auth-Request-Redirect $request_uri;
      proxy_buffering off;
      proxy_buffer_size 4k;
      proxy_buffers 4 4k;
      proxy_request_buffering on;
      proxy_http_version 1.1;
      proxy_pass_request_headers on;
      client_max_body_size 1m;
      set $target {target};
      proxy_pass $target;
    }}
    location / {{
      auth_request /_external-auth-Lw-Prefix;
      auth_request_set $auth_cookie $upstream_http_set_cookie;
      add_header Set-Cookie $auth_cookie;
      {response_headers}proxy_set_header Host $host;
      proxy_set_header X-Request-ID $request_id;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_http_version 1.1;
      proxy_pass http://127.0.0.1:{upstream_port};
    }}
  }}
}}
"#,
        method = method.unwrap_or_default(),
    )
}
