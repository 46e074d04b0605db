//! content-consumer library: configuration and the actix-web application.
