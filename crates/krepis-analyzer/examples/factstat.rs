use krepis_analyzer::facts::*;
use std::mem::size_of;
fn main() {
    let list = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let (
        mut other,
        mut member,
        mut name,
        mut computed,
        mut noarg,
        mut params,
        mut heapn,
        mut heapb,
        mut fnparams_nonempty,
    ) = (0, 0, 0, 0, 0, 0, 0usize, 0usize, 0);
    let mut h = |n: &Name| {
        if n.is_heap_allocated() {
            heapn += 1;
            heapb += n.capacity();
        }
    };
    let mut same_type = 0;
    let mut text_eq_name = 0;
    for p in list.lines() {
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        let f = extract(std::path::Path::new(p), &text);
        for c in &f.calls {
            match &c.callee {
                Callee::Other => other += 1,
                Callee::Member { object, property } => {
                    member += 1;
                    h(object);
                    h(property);
                }
                Callee::Name(n) => {
                    name += 1;
                    h(n);
                }
                Callee::Computed { property } => {
                    computed += 1;
                    h(property);
                }
            }
            if c.first_argument.is_none() {
                noarg += 1
            }
        }
        for fun in &f.functions {
            params += fun.params.len();
            if !fun.params.is_empty() {
                fnparams_nonempty += 1
            }
            h(&fun.name);
            if let Some(r) = &fun.return_type {
                h(r)
            }
            if let Some(c) = &fun.container {
                h(c)
            }
            for pa in &fun.params {
                h(&pa.text);
                if let Some(t) = &pa.type_text {
                    h(t)
                }
                if let Some(t) = &pa.type_name {
                    h(t)
                }
                if pa.type_text == pa.type_name {
                    same_type += 1
                }
                if pa.name.as_deref() == Some(pa.text.as_str()) {
                    text_eq_name += 1
                }
            }
        }
        for i in &f.imports {
            h(&i.specifier);
            for n in &i.names {
                h(&n.imported);
                h(&n.local);
            }
        }
        for l in &f.locals {
            h(&l.name);
        }
    }
    println!("calls: other {other} member {member} name {name} computed {computed} noarg {noarg}");
    println!(
        "params {params} in {fnparams_nonempty} fns; type_text==type_name {same_type}; text==name {text_eq_name}"
    );
    println!(
        "heap names {heapn}, {:.1} MB; sizes callee {} argfact {} firstarg {} param {} fn {} import {} importedname {}",
        heapb as f64 / 1e6,
        size_of::<Callee>(),
        size_of::<ArgumentFact>(),
        size_of::<Option<(ArgumentFact, krepis_analyzer::diagnostic::TextRange)>>(),
        size_of::<ParamFact>(),
        size_of::<FunctionFact>(),
        size_of::<ImportFact>(),
        size_of::<ImportedName>()
    );
}
