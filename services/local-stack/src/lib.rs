//! local-stack library: configuration and the actix-web application.
