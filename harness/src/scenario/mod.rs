//! Scenario files: the model, the loader, templates and matchers.

mod auth_model;
mod jsonpath;
mod load;
mod matcher;
mod model;
mod template;
mod vars;
mod xmlpath;

pub use auth_model::{
    ClientRef, Consent, Leg, OAuth1Options, Placement, SessionOptions, SignatureMethodName,
};
pub use load::{discover, load_all, load_file, parse, step_references, step_templates, LoadError};
pub use matcher::{JsonType, Matcher, Mismatch, Op, Pattern};
pub use model::*;
pub use template::{display, render_json, Template, TemplateError, VarRef};
pub use vars::{Vars, BUILTINS};
pub use xmlpath::{element_text, namespace_of, XmlPath, PREFIXES};
