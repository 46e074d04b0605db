//! premium-content library: configuration and the actix-web application.
