//! The documented operations of every EMR profile, as data.
//!
//! The mock's router, the WSDL/WADL/OpenAPI documents it serves and the
//! harness's coverage report all read the same tables, so they cannot drift
//! apart. The tables live under `catalog/data/` and are compiled into the
//! binary: nothing here reads the file system at run time.

mod access;
mod profile;
mod soap;
mod table;
mod template;

pub use access::Access;
pub use profile::{CatalogFile, Family, Profile, ProfileId, Quirk, Rebase, UnknownProfile};
pub use soap::{
    signature, ComplexType, EnumType, Field, Signature, SoapDataError, SoapTypes, TypeRef, Xsd,
    SOAP_VARIANTS,
};
pub use table::{
    data_file, strip_media_extension, Api, Catalog, CatalogError, Lookup, Operation, TableKind,
};
pub use template::{PathMatch, PathTemplate};

/// The project's OpenAPI 3.0 document of OpenEMR's Standard and Patient
/// Portal APIs (YAML; paths as OpenEMR mounts them under `/apis/{site}`).
/// The mock serves it; the harness validates responses against it.
pub const OPENEMR_OPENAPI: &str = include_str!("../data/openemr/openapi.yaml");
