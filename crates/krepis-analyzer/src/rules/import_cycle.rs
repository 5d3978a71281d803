//! `import-cycle`: a cycle in the import graph, reported once on one of its imports.
//!
//! The user page is `rules/import-cycle.md`. The cycles themselves are computed once for the whole
//! project by [`crate::queries::import_cycles`].

pub use crate::settings::import_cycle::Options;

/// Strongly connected components of a graph given as adjacency lists, iteratively (Tarjan), so a
/// cycle of ten thousand modules cannot overflow the stack. Only components with a cycle are kept.
pub fn cyclic_components(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut components = Vec::new();
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, position in its edge list)
        let mut work = vec![(start, 0usize)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (node, ref mut position)) = work.last_mut() {
            if let Some(&next) = edges[node].get(*position) {
                *position += 1;
                if index[next] == usize::MAX {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                let self_loop = component.len() == 1 && edges[node].contains(&node);
                if component.len() > 1 || self_loop {
                    component.sort_unstable();
                    components.push(component);
                }
            }
        }
    }
    components
}

/// A shortest cycle through `start` inside `component` (breadth-first), as a list of nodes.
pub fn cycle_through(edges: &[Vec<usize>], component: &[usize], start: usize) -> Vec<usize> {
    let inside = |n: usize| component.binary_search(&n).is_ok();
    let mut previous = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &edges[node] {
            if !inside(next) {
                continue;
            }
            if next == start {
                let mut path = vec![node];
                let mut at = node;
                while at != start {
                    at = previous[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = previous.entry(next) {
                e.insert(node);
                queue.push_back(next);
            }
        }
    }
    vec![start]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_project;

    #[test]
    fn tarjan_finds_cycles_without_recursion() {
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![]];
        assert_eq!(cyclic_components(&edges), vec![vec![0, 1, 2], vec![3]]);
        let n = 20_000;
        let ring: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        let components = cyclic_components(&ring);
        assert_eq!(components.len(), 1);
        assert_eq!(components[0].len(), n);
        assert_eq!(cycle_through(&ring, &components[0], 0).len(), n);
    }

    #[test]
    fn reports_each_cycle_once() {
        assert_project(&[
            (
                "src/a.ts",
                "import { b } from \"./b.ts\";\n//                ^^^^^^^^ import-cycle\nexport const a = 1;\n",
            ),
            (
                "src/b.ts",
                "import { c } from \"./c\";\nexport const b = 1;\n",
            ),
            (
                "src/c.ts",
                "export { a } from \"./a.ts\";\nexport const c = 1;\n",
            ),
            ("src/d.ts", "import { a } from \"./a.ts\";\n"),
            // Only types: erased from the JavaScript, so no evaluation order to get wrong.
            (
                "src/t.ts",
                "import type { U } from \"./u.ts\";\nexport type T = 1;\n",
            ),
            (
                "src/u.ts",
                "import { type T } from \"./t.ts\";\nexport type U = import(\"./v.ts\").V;\n",
            ),
            ("src/v.ts", "export type V = import(\"./u.ts\").U;\n"),
        ]);
    }

    #[test]
    fn through_barrels_a_module_importing_its_own_barrel_is_no_cycle_but_a_real_one_is() {
        let barrel = (
            "src/index.ts",
            "export * from \"./a.ts\";\nexport * from \"./b.ts\";\n",
        );
        // By default the barrel closes a cycle: a → index → a.
        crate::testing::assert_project(&[
            (
                "src/a.ts",
                "import { b } from \"./index.ts\";\n//                ^^^^^^^^^^^^ import-cycle\nexport const a = b;\n",
            ),
            ("src/b.ts", "export const b = 2;\n"),
            barrel,
        ]);
        let traced = r#"{ "rules": { "import-cycle": ["warn", { "throughBarrels": true }] } }"#;
        crate::testing::assert_project_with_config(
            traced,
            &[
                (
                    "src/a.ts",
                    "import { b } from \"./index.ts\";\nexport const a = b;\n",
                ),
                ("src/b.ts", "export const b = 2;\n"),
                barrel,
            ],
        );
        // Two modules that take each other's names through the barrel still import each other.
        crate::testing::assert_project_with_config(
            traced,
            &[
                (
                    "src/a.ts",
                    "import { b } from \"./index.ts\";\n//                ^^^^^^^^^^^^ import-cycle\nexport const a = 1;\nexport const ab = b;\n",
                ),
                (
                    "src/b.ts",
                    "import { a } from \"./index.ts\";\nexport const b = 2;\nexport const ba = a;\n",
                ),
                barrel,
            ],
        );
    }

    #[test]
    fn type_only_cycles_when_asked_for() {
        crate::testing::assert_project_with_config(
            r#"{ "rules": { "import-cycle": ["warn", { "ignoreTypeImports": false }] } }"#,
            &[
                (
                    "src/t.ts",
                    "import type { U } from \"./u.ts\";\n//                     ^^^^^^^^ import-cycle\nexport type T = 1;\n",
                ),
                ("src/u.ts", "export type U = import(\"./t.ts\").T;\n"),
            ],
        );
    }

    #[test]
    fn a_larger_set_is_named_as_a_set() {
        let diagnostics = crate::testing::check_project_file(
            &[
                ("src/a.ts", "import \"./b.ts\";\nimport \"./c.ts\";\n"),
                ("src/b.ts", "import \"./a.ts\";\n"),
                ("src/c.ts", "import \"./d.ts\";\n"),
                ("src/d.ts", "import \"./a.ts\";\n"),
            ],
            "src/a.ts",
        );
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(
            diagnostics[0].message,
            "import cycles among 4 modules that import each other; one of them: src/a.ts → src/b.ts → src/a.ts"
        );
        assert!(
            diagnostics[0].note.as_deref().is_some_and(
                |n| n.contains("none of the 4 modules") && n.contains("krepis graph --cycles")
            ),
            "{:?}",
            diagnostics[0].note
        );
    }
}
