//! Open interfaces: the Statuspage-shaped objects shared by the read API, the
//! write API and webhook payloads.
pub mod openapi;
pub mod statuspage;
