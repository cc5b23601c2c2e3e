//! What CXF knows of a resource method from its annotations and Java
//! signature: the media types it produces and consumes, its parameters,
//! its body class and its return type. The catalogue row holds them as
//! text; they are compiled once per operation when the behaviour table is
//! loaded, not parsed again on every request.

use emr_catalog::Operation;

use super::input::{self, Param};
use super::media::{self, MediaRange};
use super::types::JType;

/// An operation's compiled signature.
#[derive(Debug, Clone)]
pub struct Signature {
    /// `@Produces`, in declaration order (none declared is `*/*`).
    pub produces: Vec<MediaRange>,
    /// `@Consumes` (none declared is `*/*`).
    pub consumes: Vec<MediaRange>,
    pub path_params: Vec<Param>,
    pub query_params: Vec<Param>,
    /// The declared return type (`void` and `Response` are [`JType::Any`]).
    pub response_type: JType,
    /// Whether the method is declared `void`.
    pub void: bool,
    /// The class the JSON provider binds the body to, if it binds one.
    pub json_body: Option<JType>,
}

impl Signature {
    pub fn of(op: &Operation) -> Signature {
        let body_type = op.column("request_body_type");
        // Bodies the JSON reader does not bind: none, text, and forms.
        let binds_json = !(matches!(body_type, "" | "-" | "String" | "form")
            || body_type.starts_with("MultivaluedMap"));
        Signature {
            produces: media::declared(op.column("produces")),
            consumes: media::declared(op.column("consumes")),
            path_params: input::declared(op.column("path_params")),
            query_params: input::declared(op.column("query_params")),
            response_type: JType::parse(op.column("response_type")),
            void: op.column("response_type") == "void",
            json_body: binds_json.then(|| JType::parse(body_type)),
        }
    }

    /// The declared path parameter `name` (undeclared ones are strings).
    pub fn path_param(&self, name: &str) -> Option<&Param> {
        self.path_params.iter().find(|p| p.name == name)
    }
}
