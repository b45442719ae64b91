//! The people who work in a shop (`users`, seed 004 §2.1, issue 15): the model and its
//! repository. A low module: the session guard (`auth`) reads a user on every staff request,
//! and the staff routes (`staff`) manage them; neither is imported here.

pub mod model;
pub mod repo;

pub use model::{Origin, UserDoc, UserStatus};
