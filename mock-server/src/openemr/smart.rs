//! The discovery documents under the FHIR base: the SMART configuration
//! (`.well-known/smart-configuration`) and the CapabilityStatement
//! (`metadata`), generated from the catalogue's FHIR route table.

use std::collections::BTreeMap;

use emr_catalog::{Api, Catalog};
use serde_json::{json, Value};

use super::oauth2::Ctx;

/// SMART capabilities (`src/FHIR/SMART/Capability.php`).
const SMART_CAPABILITIES: &[&str] = &[
    "launch-ehr",
    "context-banner",
    "context-ehr-patient",
    "context-style",
    "sso-openid-connect",
    "client-confidential-symmetric",
    "permission-user",
    "context-standalone-patient",
    "launch-standalone",
    "permission-patient",
    "permission-offline",
    "client-public",
];

/// The CapabilityStatement's security extension codes.
const SECURITY_CAPABILITIES: &[&str] = &[
    "launch-ehr",
    "context-passthrough-banner",
    "context-ehr-patient",
    "context-passthrough-style",
    "sso-openid-connect",
    "client-confidential-symmetric",
    "permission-user",
    "context-standalone-patient",
    "launch-standalone",
    "permission-patient",
    "permission-offline",
    "client-public",
];

pub fn smart_configuration(ctx: &Ctx<'_>) -> Value {
    let base = ctx.auth_base();
    json!({
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/registration"),
        "introspection_endpoint": format!("{base}/introspect"),
        "scopes_supported": super::oauth2::scopes_supported(ctx),
        "response_types_supported": super::oauth2::RESPONSE_TYPES,
        "capabilities": SMART_CAPABILITIES,
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["client_credentials", "authorization_code"],
    })
}

/// A search parameter's FHIR type, from the search table
/// ([`super::fhir::search::PARAMS`]) the searches themselves run on.
fn param_type(resource: &str, name: &str) -> &'static str {
    super::fhir::search::param(resource, name)
        .map(|(k, _)| k.as_str())
        .unwrap_or("string")
}

/// `FhirMetaDataRestController`: one resource entry per route-file
/// resource, with its interactions, search parameters and operations.
pub fn capability_statement(ctx: &Ctx<'_>, catalog: &Catalog, today: &str) -> Value {
    let fhir_base = format!("{}{}", ctx.root, ctx.layout.fhir_path(&ctx.site.name));
    #[derive(Default)]
    struct Res {
        interactions: Vec<&'static str>,
        params: Vec<String>,
        operations: Vec<(String, String)>,
    }
    let mut resources: BTreeMap<String, Res> = BTreeMap::new();
    for op in catalog.operations().iter().filter(|o| o.api == Api::Fhir) {
        let interaction = op.column("interaction");
        // Operation-only roots (`$export`, `$bulkdata-status`) are typed
        // OperationDefinition; the discovery documents are not resources.
        let resource = match op.column("resource") {
            "(system)" => "OperationDefinition",
            r if r.is_empty() || r.starts_with('(') || r == "CapabilityStatement" => continue,
            r => r,
        };
        let r = resources.entry(resource.to_owned()).or_default();
        let code = match interaction {
            "read" => Some("read"),
            "search-type" => Some("search-type"),
            "create" => Some("create"),
            "update" => Some("update"),
            "delete" => Some("delete"),
            _ => None,
        };
        if let Some(c) = code {
            if !r.interactions.contains(&c) {
                r.interactions.push(c);
            }
        }
        // The search-type route's parameters, typed by the search table
        // (`search_params` names them; the table is what searches run on).
        if interaction == "search-type" {
            for (res, p, _, _) in super::fhir::search::PARAMS {
                if (*res == resource || *res == "*") && !r.params.iter().any(|x| x == p) {
                    r.params.push((*p).to_owned());
                }
            }
        }
        if let Some(name) = op
            .column("path")
            .rsplit('/')
            .next()
            .filter(|s| s.starts_with('$'))
        {
            let name = name.trim_start_matches('$');
            let definition = match (name, resource) {
                ("export", "Patient") => {
                    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export".to_owned()
                }
                ("export", "Group") => {
                    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export".to_owned()
                }
                ("export", _) => {
                    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export".to_owned()
                }
                ("docref", _) => {
                    "http://hl7.org/fhir/us/core/OperationDefinition/docref".to_owned()
                }
                (other, _) => format!("{fhir_base}/OperationDefinition/${other}"),
            };
            if !r.operations.iter().any(|(n, _)| n == name) {
                r.operations.push((name.to_owned(), definition));
            }
        }
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|(name, r)| {
            let mut e = json!({
                "type": name,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{name}"),
                "interaction": r.interactions.iter().map(|c| json!({"code": c})).collect::<Vec<_>>(),
            });
            if !r.interactions.is_empty() {
                e["updateCreate"] = json!(false);
            }
            if !r.params.is_empty() {
                e["searchParam"] = r
                    .params
                    .iter()
                    .map(|p| json!({"name": p, "type": param_type(&name, p)}))
                    .collect();
                e["searchInclude"] = json!(["*"]);
                e["searchRevInclude"] = json!(["Provenance:target"]);
            }
            if !r.operations.is_empty() {
                e["operation"] = r
                    .operations
                    .iter()
                    .map(|(n, d)| json!({"name": n, "definition": d}))
                    .collect();
            }
            e
        })
        .collect();
    // OpenEMR reports its composer.json version (8.0.1 in the code line
    // the reference was read from).
    let (software, version) = if ctx.layout == super::layout::Layout::EMedPractice {
        ("eMedicalPractice", ctx.state.profile.title.clone())
    } else {
        ("OpenEMR", "8.0.1".to_owned())
    };
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": today,
        "kind": "instance",
        "instantiates": [
            "http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server",
            "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
        ],
        "software": {"name": software, "version": version},
        "implementation": {"description": format!("{software} FHIR API"), "url": fhir_base},
        "fhirVersion": "4.0.1",
        "format": ["application/json"],
        "rest": [{
            "mode": "server",
            "security": {
                "extension": SECURITY_CAPABILITIES
                    .iter()
                    .map(|c| json!({
                        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities",
                        "valueCode": c
                    }))
                    .collect::<Vec<_>>(),
                "service": [{
                    "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                        "display": "SMART-on-FHIR"
                    }],
                    "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)"
                }]
            },
            "resource": entries
        }]
    })
}
