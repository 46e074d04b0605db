//! OAuth2 client-credentials requests to a Cognito-style `/oauth2/token` endpoint.
