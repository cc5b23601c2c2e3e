//! `?wsdl`: each service's WSDL 1.1, generated as CXF generates it at run
//! time, from the same operation table and type table the endpoint uses
//! (document/literal wrapped, SOAP 1.1, `soapAction=""`, the schema
//! inline, the address of the mock that serves it).

use std::fmt::Write as _;

use emr_catalog::{signature, Field, Operation, Signature, SoapTypes, TypeRef};

use crate::error::xml_escape;

/// The WSDL of one service, or `None` when the service has no operation.
pub fn generate(ops: &[&Operation], variant: &str, tns: &str, address: &str) -> Option<String> {
    let sigs: Vec<Signature> = ops.iter().filter_map(|op| signature(op).ok()).collect();
    let first = sigs.first()?;
    let class = first.class.clone();
    let types = SoapTypes::of(variant);
    let tns = xml_escape(tns);
    let mut w = String::with_capacity(16 * 1024);
    let _ = write!(
        w,
        "<?xml version='1.0' encoding='UTF-8'?>\
         <wsdl:definitions xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" xmlns:tns=\"{tns}\" \
         xmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\" \
         xmlns:ns1=\"http://schemas.xmlsoap.org/soap/http\" name=\"{class}Service\" \
         targetNamespace=\"{tns}\">"
    );
    // ---- types
    let _ = write!(
        w,
        "<wsdl:types><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:tns=\"{tns}\" \
         elementFormDefault=\"unqualified\" targetNamespace=\"{tns}\" version=\"1.0\">"
    );
    let mut faults: Vec<&str> = sigs
        .iter()
        .flat_map(|s| s.faults.iter().map(String::as_str))
        .collect();
    faults.sort_unstable();
    faults.dedup();
    for s in &sigs {
        let op = &s.operation;
        let _ = write!(
            w,
            "<xs:element name=\"{op}\" type=\"tns:{op}\"/><xs:element name=\"{op}Response\" type=\"tns:{op}Response\"/>"
        );
    }
    for f in &faults {
        let _ = write!(w, "<xs:element name=\"{f}\" type=\"tns:{f}\"/>");
    }
    for s in &sigs {
        let op = &s.operation;
        let _ = write!(w, "<xs:complexType name=\"{op}\"><xs:sequence>");
        for p in &s.params {
            element(&mut w, p);
        }
        let _ = write!(
            w,
            "</xs:sequence></xs:complexType><xs:complexType name=\"{op}Response\"><xs:sequence>"
        );
        if let Some(r) = &s.ret {
            element(&mut w, r);
        }
        w.push_str("</xs:sequence></xs:complexType>");
    }
    let roots: Vec<&TypeRef> = sigs
        .iter()
        .flat_map(|s| s.params.iter().chain(s.ret.iter()).map(|f| &f.ty))
        .collect();
    for t in types.closure(roots) {
        match t {
            TypeRef::Complex(name) => {
                let Some(c) = types.complex(name) else {
                    continue;
                };
                let _ = write!(w, "<xs:complexType name=\"{name}\"><xs:sequence>");
                for f in &c.fields {
                    element(&mut w, f);
                }
                w.push_str("</xs:sequence></xs:complexType>");
            }
            TypeRef::Enum(name) => {
                let Some(e) = types.enumeration(name) else {
                    continue;
                };
                let _ = write!(
                    w,
                    "<xs:simpleType name=\"{name}\"><xs:restriction base=\"xs:string\">"
                );
                for v in &e.values {
                    let _ = write!(w, "<xs:enumeration value=\"{}\"/>", xml_escape(v));
                }
                w.push_str("</xs:restriction></xs:simpleType>");
            }
            TypeRef::Xs(_) => {}
        }
    }
    for f in &faults {
        let _ = write!(
            w,
            "<xs:complexType name=\"{f}\"><xs:sequence>\
             <xs:element name=\"message\" type=\"xs:string\" minOccurs=\"0\"/>\
             </xs:sequence></xs:complexType>"
        );
    }
    w.push_str("</xs:schema></wsdl:types>");
    // ---- messages
    for s in &sigs {
        let op = &s.operation;
        let _ = write!(
            w,
            "<wsdl:message name=\"{op}\"><wsdl:part element=\"tns:{op}\" name=\"parameters\"/></wsdl:message>\
             <wsdl:message name=\"{op}Response\"><wsdl:part element=\"tns:{op}Response\" name=\"parameters\"/></wsdl:message>"
        );
    }
    for f in &faults {
        let _ = write!(
            w,
            "<wsdl:message name=\"{f}\"><wsdl:part element=\"tns:{f}\" name=\"{f}\"/></wsdl:message>"
        );
    }
    // ---- portType
    let _ = write!(w, "<wsdl:portType name=\"{class}\">");
    for s in &sigs {
        let op = &s.operation;
        let _ = write!(
            w,
            "<wsdl:operation name=\"{op}\"><wsdl:input message=\"tns:{op}\" name=\"{op}\"/>\
             <wsdl:output message=\"tns:{op}Response\" name=\"{op}Response\"/>"
        );
        for f in &s.faults {
            let _ = write!(w, "<wsdl:fault message=\"tns:{f}\" name=\"{f}\"/>");
        }
        w.push_str("</wsdl:operation>");
    }
    w.push_str("</wsdl:portType>");
    // ---- binding
    let _ = write!(
        w,
        "<wsdl:binding name=\"{class}ServiceSoapBinding\" type=\"tns:{class}\">\
         <soap:binding style=\"document\" transport=\"http://schemas.xmlsoap.org/soap/http\"/>"
    );
    for s in &sigs {
        let op = &s.operation;
        let _ = write!(
            w,
            "<wsdl:operation name=\"{op}\"><soap:operation soapAction=\"\" style=\"document\"/>\
             <wsdl:input name=\"{op}\"><soap:body use=\"literal\"/></wsdl:input>\
             <wsdl:output name=\"{op}Response\"><soap:body use=\"literal\"/></wsdl:output>"
        );
        for f in &s.faults {
            let _ = write!(
                w,
                "<wsdl:fault name=\"{f}\"><soap:fault name=\"{f}\" use=\"literal\"/></wsdl:fault>"
            );
        }
        w.push_str("</wsdl:operation>");
    }
    w.push_str("</wsdl:binding>");
    // ---- service
    let _ = write!(
        w,
        "<wsdl:service name=\"{class}Service\"><wsdl:port binding=\"tns:{class}ServiceSoapBinding\" \
         name=\"{class}Port\"><soap:address location=\"{}\"/></wsdl:port></wsdl:service>\
         </wsdl:definitions>",
        xml_escape(address)
    );
    Some(w)
}

/// One `xs:element` of a sequence, with JAXB's occurrence rules.
fn element(w: &mut String, f: &Field) {
    let ty = match &f.ty {
        TypeRef::Xs(x) => format!("xs:{}", x.name()),
        TypeRef::Complex(n) | TypeRef::Enum(n) => format!("tns:{n}"),
    };
    let occurs = if f.many {
        " minOccurs=\"0\" maxOccurs=\"unbounded\""
    } else if f.primitive {
        ""
    } else {
        " minOccurs=\"0\""
    };
    let _ = write!(w, "<xs:element name=\"{}\" type=\"{ty}\"{occurs}/>", f.name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::{Catalog, ProfileId};

    fn wsdl(profile: ProfileId, service: &str) -> String {
        let c = Catalog::of(profile);
        let services = c.soap_services();
        let ops = &services[service];
        let p = profile.profile();
        generate(
            ops,
            &p.variant,
            p.soap_namespace.as_deref().unwrap_or(""),
            "http://127.0.0.1:1/oscar/ws/X",
        )
        .unwrap()
    }

    #[test]
    fn wsdls_are_well_formed_and_complete() {
        for profile in [ProfileId::Oscar, ProfileId::OpenO, ProfileId::Juno] {
            let c = Catalog::of(profile);
            for (service, ops) in c.soap_services() {
                let text = wsdl(profile, service);
                let doc = roxmltree::Document::parse(&text)
                    .unwrap_or_else(|e| panic!("{profile} {service}: {e}"));
                let names: Vec<&str> = doc
                    .descendants()
                    .filter(|n| n.has_tag_name(("http://schemas.xmlsoap.org/wsdl/", "operation")))
                    .filter(|n| {
                        n.parent()
                            .is_some_and(|p| p.tag_name().name() == "portType")
                    })
                    .filter_map(|n| n.attribute("name"))
                    .collect();
                assert_eq!(names.len(), ops.len(), "{profile} {service}");
                // Every referenced tns type is defined.
                let defined: Vec<&str> = doc
                    .descendants()
                    .filter(|n| matches!(n.tag_name().name(), "complexType" | "simpleType"))
                    .filter_map(|n| n.attribute("name"))
                    .collect();
                for n in doc
                    .descendants()
                    .filter(|n| n.tag_name().name() == "element")
                {
                    if let Some(t) = n.attribute("type").and_then(|t| t.strip_prefix("tns:")) {
                        assert!(defined.contains(&t), "{profile} {service}: {t} undefined");
                    }
                }
            }
        }
    }

    #[test]
    fn wsdl_names_follow_jaxws_defaults() {
        let w = wsdl(ProfileId::Oscar, "LoginService");
        assert!(w.contains("name=\"LoginWsService\""), "{w}");
        assert!(w.contains("<wsdl:portType name=\"LoginWs\">"));
        assert!(w.contains("name=\"LoginWsPort\""));
        assert!(w.contains("<soap:operation soapAction=\"\" style=\"document\"/>"));
        assert!(w.contains(
            "<xs:element name=\"NotAuthorisedException\" type=\"tns:NotAuthorisedException\"/>"
        ));
        assert!(w.contains("<soap:address location=\"http://127.0.0.1:1/oscar/ws/X\"/>"));
        let w = wsdl(ProfileId::Juno, "DemographicService");
        assert!(w.contains("targetNamespace=\"http://v1.soap.external.ws.oscarehr.org/\""));
        let w = wsdl(ProfileId::OpenO, "ScheduleService");
        assert!(
            w.contains("<xs:element name=\"arg1\" type=\"xs:int\"/>"),
            "primitive int"
        );
        assert!(w.contains("<xs:simpleType name=\"bookingSource\">"));
    }
}
