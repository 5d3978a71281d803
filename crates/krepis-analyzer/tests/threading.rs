//! Threading the context through classes, interfaces and inheritance across modules: what the
//! type model lets `context-propagation` and `explicit-context` see, and what they refuse to
//! guess. Each case is a shape found in real projects.

use krepis_analyzer::testing::{assert_project, fix_project, memory_workspace};

const CTX: &str = "import type { KrepisContext } from \"@krepis/core\";\n";

fn with_ctx(body: &str) -> String {
    format!("{CTX}{body}")
}

#[test]
fn calls_to_inherited_methods_are_judged_by_the_base_class() {
    let base = with_ctx(
        "export abstract class MongoRepository<T> {\n  protected async persist(ctx: KrepisContext, item: T): Promise<void> {}\n  protected collection(ctx: KrepisContext): Promise<string> { return Promise.resolve(\"c\"); }\n}\n",
    );
    let sub = with_ctx(
        r#"import { MongoRepository } from "../../shared/infrastructure/mongo-repository.ts";
export class CourseRepository extends MongoRepository<string> {
  async save(ctx: KrepisContext, course: string): Promise<void> {
    await this.persist(course);
//             ^^^^^^^ context-propagation
    await super.persist(ctx, course);
    await super.persist(course);
//              ^^^^^^^ context-propagation
    await this.collection();
//             ^^^^^^^^^^ context-propagation
  }
}
"#,
    );
    assert_project(&[
        ("src/shared/infrastructure/mongo-repository.ts", &base),
        ("src/courses/infrastructure/course-repository.ts", &sub),
    ]);
}

#[test]
fn receivers_typed_by_generic_containers_locals_and_interfaces_are_followed() {
    let ports = with_ctx(
        "export interface Command { name: string }\nexport interface CommandHandler<C extends Command> {\n  handle(ctx: KrepisContext, command: C): Promise<void>;\n}\nexport interface Base { load(ctx: KrepisContext, id: string): Promise<string> }\nexport interface Store extends Base { size(): number }\n",
    );
    let bus = with_ctx(
        r#"import type { Command, CommandHandler, Store } from "./ports.ts";
export class CommandBus {
  private readonly handlers = new Map<string, CommandHandler<Command>>();
  private readonly all: CommandHandler<Command>[] = [];
  constructor(private readonly store: Store) {}
  async dispatch(ctx: KrepisContext, command: Command): Promise<void> {
    const handler = this.handlers.get(command.name);
    await handler!.handle(command);
//                 ^^^^^^ context-propagation
    for (const each of this.all) {
      await each.handle(command);
//               ^^^^^^ context-propagation
    }
    const typed: Store = this.store;
    await typed.load(command.name);
//              ^^^^ context-propagation
    await this.store.load(ctx, command.name);
    this.store.size();
  }
}
"#,
    );
    assert_project(&[
        ("src/app/application/ports.ts", &ports),
        ("src/app/application/bus.ts", &bus),
    ]);
}

#[test]
fn a_receiver_the_model_cannot_type_is_reported_not_guessed() {
    let ports = with_ctx(
        "export interface Handler { handle(ctx: KrepisContext, input: string): Promise<void> }\n",
    );
    let caller = with_ctx(
        r#"import type { Handler } from "./ports.ts";
export async function run(ctx: KrepisContext, registry: Record<string, unknown>, pick: () => any) {
  const handler = pick();
  await handler.handle("x");
//              ^^^^^^ context-propagation
  await handler.handle(ctx, "x");
  await handler.close();
}
"#,
    );
    let files = [
        ("src/app/ports.ts", ports.as_str()),
        ("src/app/run.ts", &caller),
    ];
    assert_project(&files);
    assert_first_unfixed(
        &files,
        "src/app/run.ts",
        "cannot tell whether `handler.handle` takes the context",
    );
}

/// The first finding in `file` says `message` and has no fix.
fn assert_first_unfixed(files: &[(&str, &str)], file: &str, message: &str) {
    let (workspace, root) = memory_workspace(files);
    let file = workspace.file(&root.join(file)).unwrap();
    let diagnostics = workspace.diagnostics(file);
    assert_eq!(diagnostics[0].message, message);
    assert!(diagnostics[0].fix.is_none());
}

#[test]
fn adding_the_context_to_a_method_called_on_an_untyped_receiver_is_unsafe() {
    let service = with_ctx(
        "export class Mailer {\n  async send(to: string): Promise<void> {}\n  async ping(): Promise<void> {}\n}\n",
    );
    let caller = "export function later(queue: any) {\n  queue.send(\"x\");\n}\n";
    let (workspace, root) = memory_workspace(&[
        ("src/app/mailer.ts", &service),
        ("src/app/later.ts", caller),
    ]);
    let file = workspace.file(&root.join("src/app/mailer.ts")).unwrap();
    let fixes: Vec<(String, bool)> = workspace
        .diagnostics(file)
        .iter()
        .map(|d| (d.message.clone(), d.fix.as_ref().unwrap().is_safe()))
        .collect();
    assert_eq!(
        fixes,
        [
            (
                "async method `send` must take `ctx: KrepisContext` as its first parameter"
                    .to_string(),
                false
            ),
            (
                "async method `ping` must take `ctx: KrepisContext` as its first parameter"
                    .to_string(),
                true
            ),
        ]
    );
}

#[test]
fn members_implementing_a_framework_type_are_entry_points() {
    let handler = r#"import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import type { KrepisContext } from "@krepis/core";
import { PlaceOrder } from "./place-order.ts";
import { place } from "./place.ts";
@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder> {
  async execute(command: PlaceOrder): Promise<void> {
    await place(command.id);
//        ^^^^^ context-propagation
  }
  private async audit(id: string): Promise<void> {}
//              ^^^^^ explicit-context
}
"#;
    assert_project(&[
        (
            "src/orders/application/place-order.ts",
            "export class PlaceOrder { id = \"\"; }\n",
        ),
        (
            "src/orders/application/place.ts",
            &with_ctx(
                "export async function place(ctx: KrepisContext, id: string): Promise<void> {}\n",
            ),
        ),
        ("src/orders/application/handler.ts", handler),
    ]);
    // The entry point makes the context it passes.
    let fixed = fix_project(
        &[(
            "src/orders/application/place.ts",
            &with_ctx(
                "export async function place(ctx: KrepisContext, id: string): Promise<void> {}\n",
            ),
        )],
        "src/orders/application/handler.ts",
        "import { Injectable, type OnModuleInit } from \"@nestjs/common\";\nimport { place } from \"./place.ts\";\n@Injectable()\nexport class Warmup implements OnModuleInit {\n  async onModuleInit(): Promise<void> {\n    await place(\"warm\");\n  }\n}\n",
    );
    assert_eq!(
        fixed,
        "import { createContext } from \"@krepis/core\";\nimport { Injectable, type OnModuleInit } from \"@nestjs/common\";\nimport { place } from \"./place.ts\";\n@Injectable()\nexport class Warmup implements OnModuleInit {\n  async onModuleInit(): Promise<void> {\n    await place(createContext(), \"warm\");\n  }\n}\n"
    );
}

#[test]
fn overloads_are_reported_once_and_fixed_together() {
    let text = with_ctx(
        r#"export async function find(id: string): Promise<string>;
//                    ^^^^ explicit-context
export async function find(id: string, all: boolean): Promise<string[]>;
export async function find(id: string, all?: boolean): Promise<string | string[]> { return id; }
export class Repo {
  get(id: string): Promise<string>;
//^^^ explicit-context
  get(id: number): Promise<string>;
  get(id: string | number): Promise<string> { return Promise.resolve(String(id)); }
}
"#,
    );
    assert_project(&[("src/a.ts", &text)]);
    let fixed = fix_project(&[], "src/a.ts", &text);
    assert_eq!(
        fixed.matches("(ctx: KrepisContext, id").count(),
        6,
        "{fixed}"
    );
}

#[test]
fn an_optional_context_moved_first_becomes_required() {
    let text =
        with_ctx("export async function load(id: string, ctx?: KrepisContext): Promise<void> {}\n");
    let (workspace, root) = memory_workspace(&[("src/a.ts", &text)]);
    let file = workspace.file(&root.join("src/a.ts")).unwrap();
    let diagnostics = workspace.diagnostics(file);
    let fix = diagnostics[0].fix.clone().unwrap();
    assert!(!fix.is_safe(), "callers pass the old order");
    let (fixed, _) = krepis_analyzer::diagnostic::apply_edits(&text, &fix.edits);
    assert!(
        fixed.contains("load(ctx: KrepisContext, id: string)"),
        "{fixed}"
    );
}

#[test]
fn functions_and_methods_passed_as_values_get_only_an_unsafe_fix() {
    let text = r#"export class Consumer {
  async onMessage(message: string): Promise<void> {}
//      ^^^^^^^^^ explicit-context
  async other(message: string): Promise<void> {}
//      ^^^^^ explicit-context
}
export async function load(id: string): Promise<string> { return id; }
//                    ^^^^ explicit-context
export function wire(consumer: Consumer, ids: string[]) {
  subscribe(consumer.onMessage.bind(consumer));
  return ids.map(load);
}
declare function subscribe(f: (m: string) => Promise<void>): void;
"#;
    assert_project(&[("src/a.ts", text)]);
    let (workspace, root) = memory_workspace(&[("src/a.ts", text)]);
    let file = workspace.file(&root.join("src/a.ts")).unwrap();
    let safe: Vec<bool> = workspace
        .diagnostics(file)
        .iter()
        .map(|d| d.fix.as_ref().unwrap().is_safe())
        .collect();
    assert_eq!(safe, [false, true, false]);
}

#[test]
fn calls_on_new_and_awaited_receivers_are_typed() {
    let app = with_ctx(
        "export class BackendApp {\n  async start(ctx: KrepisContext): Promise<void> {}\n}\n",
    );
    let start = r#"import { BackendApp } from "./app.ts";
const ready: Promise<BackendApp> = Promise.resolve(new BackendApp());
new BackendApp().start();
//               ^^^^^ context-propagation
(await ready).start();
//            ^^^^^ context-propagation
"#;
    assert_project(&[("src/app.ts", &app), ("src/start.ts", start)]);
}

#[test]
fn an_entry_point_call_with_optional_parameters_gets_one_context() {
    let repo = with_ctx(
        "export class MediaRepository {\n  async findMedia(ctx: KrepisContext, by: { id?: string }, options?: { lock: boolean }): Promise<string> { return \"\"; }\n}\n",
    );
    let fixed = fix_project(
        &[("src/media/repository.ts", &repo)],
        "src/media/seed.ts",
        "import { MediaRepository } from \"./repository.ts\";\nconst media = new MediaRepository();\nawait media.findMedia({ id: \"1\" });\n",
    );
    assert!(
        fixed.contains("await media.findMedia(createContext(), { id: \"1\" });"),
        "{fixed}"
    );
}

#[test]
fn implementations_follow_the_contract_of_the_project_type() {
    let ports = with_ctx(
        "export interface EventBus {\n  addSubscribers(subscribers: string[]): void;\n}\nexport interface Tracer {\n  trace<T>(name: string, work: () => Promise<T>): Promise<T>;\n//^^^^^ explicit-context\n}\n",
    );
    let impls = r#"import type { EventBus, Tracer } from "./ports.ts";
export class RabbitBus implements EventBus {
  async addSubscribers(subscribers: string[]) {}
}
export class NoTracer implements Tracer {
  trace<T>(name: string, work: () => Promise<T>) { return work(); }
//^^^^^ explicit-context
}
export class Controller {
  async handle(id: string): Promise<void> {
    const ctx = createContext();
  }
  async other(id: string): Promise<void> {
//      ^^^^^ explicit-context
    const ctx = 1;
  }
}
declare function createContext(): unknown;
"#;
    assert_project(&[
        ("src/shared/ports.ts", &ports),
        ("src/shared/impls.ts", impls),
    ]);
    let (workspace, root) = memory_workspace(&[
        ("src/shared/ports.ts", &ports),
        ("src/shared/impls.ts", impls),
    ]);
    let file = workspace.file(&root.join("src/shared/impls.ts")).unwrap();
    let diagnostics = workspace.diagnostics(file);
    // `other` has a local `ctx`: a parameter of that name would clash, so no fix.
    assert!(diagnostics.last().unwrap().fix.is_none());
}

#[test]
fn global_types_are_not_the_projects_and_a_parameter_named_ctx_is_not_a_context() {
    let repo = with_ctx(
        "export class Headers2 {}\nexport interface Store { get(ctx: KrepisContext, id: string): Promise<string> }\nexport class ApiClient {\n  async createUser(ctx: KrepisContext, dto: { name: string }): Promise<void> {}\n}\n",
    );
    let routes = r#"import type { KrepisContext } from "@krepis/core";
import { ApiClient } from "./repo.ts";
export async function route(ctx: KrepisContext, request: Request): Promise<string> {
  const url = new URL(request.url);
  return (request.headers.get("x") ?? "") + (url.searchParams.get("y") ?? "");
}
interface StepContext { dto: { name: string } }
export function step(ctx: StepContext) {
  return async () => {
    await new ApiClient().createUser(ctx.dto);
//                        ^^^^^^^^^^ context-propagation
  };
}
"#;
    assert_project(&[("src/app/repo.ts", &repo), ("src/app/routes.ts", routes)]);
}

#[test]
fn a_function_escaping_through_an_object_literal_gets_only_an_unsafe_fix() {
    let runner = "async function runner(promises: Array<() => Promise<void>>) {}\nexport default { run: runner };\n";
    let (workspace, root) = memory_workspace(&[("src/db/runner.ts", runner)]);
    let file = workspace.file(&root.join("src/db/runner.ts")).unwrap();
    let diagnostics = workspace.diagnostics(file);
    assert!(!diagnostics[0].fix.as_ref().unwrap().is_safe());
}

#[test]
fn a_class_cast_to_a_project_interface_keeps_its_contract() {
    // `new LockManager(this as WorkerPort)`: no `implements`, but the class stands in for the
    // port, so its methods take the context exactly when the port's do.
    let port = with_ctx(
        r#"export interface WorkerPort {
  extendLocks(ids: string[]): Promise<string[]>;
//^^^^^^^^^^^ explicit-context
  trace<T>(name: string, work: () => Promise<T> | T): Promise<T> | T;
}
"#,
    );
    let worker = r#"import type { WorkerPort } from "./port.ts";
declare class LockManager { constructor(worker: WorkerPort) }
export class Worker {
  extendLocks(ids: string[]) {
//^^^^^^^^^^^ explicit-context
    return Promise.resolve(ids);
  }
  async trace<T>(name: string, work: () => Promise<T> | T): Promise<T> {
    return await work();
  }
  start(): void {
    new LockManager(this as WorkerPort);
  }
}
"#;
    assert_project(&[("src/app/port.ts", &port), ("src/app/worker.ts", worker)]);
}

/// The safety of the fix that adds the context to each method of `file`, by message.
fn fix_safety(files: &[(&str, &str)], file: &str) -> Vec<(String, bool)> {
    let (workspace, root) = memory_workspace(files);
    let file = workspace.file(&root.join(file)).unwrap();
    workspace
        .diagnostics(file)
        .iter()
        .map(|d| (d.message.clone(), d.fix.as_ref().unwrap().is_safe()))
        .collect()
}

#[test]
fn a_method_called_on_an_element_or_a_call_result_is_called_on_an_unknown_receiver() {
    let job = "export class Job {\n  async removeDependency(): Promise<boolean> { return true; }\n  async moveToDone(): Promise<void> {}\n}\n";
    // A test's `children![0].job.removeDependency()`: the receiver's type is written nowhere.
    let test = r#"import { Job } from "./job.ts";
declare function add(): Promise<{ job: Job }[]>;
export async function broken(): Promise<void> {
  const children = await add();
  await children![0].job.removeDependency();
  await new Job().moveToDone();
}
"#;
    assert_eq!(
        fix_safety(
            &[("src/app/job.ts", job), ("src/app/job.test.ts", test)],
            "src/app/job.ts"
        ),
        [
            (
                "async method `removeDependency` must take `ctx: KrepisContext` as its first parameter"
                    .to_string(),
                false
            ),
            (
                "async method `moveToDone` must take `ctx: KrepisContext` as its first parameter"
                    .to_string(),
                true
            ),
        ]
    );
    // Once it takes the context, such a call in a context-holding function is reported.
    let job = with_ctx(
        "export class Job {\n  async removeDependency(ctx: KrepisContext): Promise<boolean> { return true; }\n}\n",
    );
    let caller = with_ctx(
        r#"import { Job } from "./job.ts";
declare function children(): { job: Job }[];
export async function prune(ctx: KrepisContext): Promise<void> {
  await children()[0].job.removeDependency();
//                        ^^^^^^^^^^^^^^^^ context-propagation
  await children()[0].job.removeDependency(ctx);
}
"#,
    );
    let files = [
        ("src/app/job.ts", job.as_str()),
        ("src/app/prune.ts", &caller),
    ];
    assert_project(&files);
    assert_first_unfixed(
        &files,
        "src/app/prune.ts",
        "cannot tell whether `removeDependency` takes the context",
    );
}

#[test]
fn a_method_a_test_double_replaces_gets_only_an_unsafe_fix() {
    // `jest.spyOn(repo, "addMedia").mock.calls[0][0]` reads the arguments by position: the
    // context would shift them under the test.
    let port = "export interface MediaRepository {\n  addMedia(media: string): Promise<void>;\n  removeMedia(id: string): Promise<void>;\n  findMedia(id: string): Promise<string>;\n}\n";
    let test = r#"import type { MediaRepository } from "./port.ts";
declare const jest: { spyOn(object: unknown, method: string): any };
declare const sinon: { stub(object: unknown, method: string): any };
declare const repo: MediaRepository;
const added: string = jest.spyOn(repo, "addMedia").mock.calls[0][0];
sinon.stub(repo, "removeMedia");
"#;
    assert_eq!(
        fix_safety(
            &[("src/app/port.ts", port), ("src/app/media.spec.ts", test)],
            "src/app/port.ts"
        ),
        [
            (
                "method `addMedia` returns a Promise and must take `ctx: KrepisContext` as its first parameter"
                    .to_string(),
                false
            ),
            (
                "method `removeMedia` returns a Promise and must take `ctx: KrepisContext` as its first parameter"
                    .to_string(),
                false
            ),
            (
                "method `findMedia` returns a Promise and must take `ctx: KrepisContext` as its first parameter"
                    .to_string(),
                true
            ),
        ]
    );
}

#[test]
fn members_of_an_object_literal_typed_with_a_project_interface_keep_its_contract() {
    let port = with_ctx(
        r#"export interface Store {
  save(id: string): Promise<void>;
//^^^^ explicit-context
  warm(): void;
}
"#,
    );
    // A fake of the port: `save` returns a promise without `async`, `warm` is async although the
    // port's is not.
    let fake = r#"import type { Store } from "./port.ts";
export const fake: Store = {
  save: (id) => Promise.resolve(),
//^^^^ explicit-context
  async warm() {},
};
export const other = {
  async warm() {},
//      ^^^^ explicit-context
};
export const checked = {
  async warm() {},
} satisfies Store;
"#;
    assert_project(&[("src/app/port.ts", &port), ("src/app/fake.ts", fake)]);
}

#[test]
fn receivers_reached_through_private_fields_method_results_and_elements_are_typed() {
    let repo = with_ctx(
        "export class Repo {\n  async save(ctx: KrepisContext, id: string): Promise<void> {}\n  async find(ctx: KrepisContext, id: string): Promise<string> { return id; }\n}\n",
    );
    let service = with_ctx(
        r#"import { Repo } from "./repo.ts";
export class Service {
  readonly #store: Repo = new Repo();
  private readonly repos = new Map<string, Repo>();
  private readonly all: Repo[] = [];
  private readonly names: string[] = [];
  async run(ctx: KrepisContext, id: string): Promise<void> {
    await this.#store.save(id);
//                    ^^^^ context-propagation
    await this.repos.get(id)!.save(id);
//                            ^^^^ context-propagation
    await this.all[0].save(id);
//                    ^^^^ context-propagation
    this.names.filter((n) => n !== id).find((n) => n === id);
    this.repos.get(id)?.find(ctx, id);
  }
}
"#,
    );
    assert_project(&[("src/app/repo.ts", &repo), ("src/app/service.ts", &service)]);
}
