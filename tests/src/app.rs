//! The application as Spin runs it: every component of `spin.toml` compiled and
//! pre-instantiated once, a fresh store per request, Spin's routing and request headers.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use http::{HeaderValue, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::cli::OutputFile;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::key_value::{KeyValue, KeyValueStores};
use crate::outbound::OutboundHttp;
use crate::runtime_config::{Database, KeyValueStore, RuntimeConfig};

use crate::manifest::{Application, Manifest};
use crate::routes::Router;
use crate::spin::{self, ComponentVariables, Connections, Pool, Sqlite, StatementLog, Variables};

/// A request's store data.
pub struct State {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) sqlite: Sqlite,
    pub(crate) variables: ComponentVariables,
    pub(crate) key_value: KeyValue,
    outbound: OutboundHttp,
    pub(crate) open_connections: usize,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

struct Loaded {
    id: String,
    pre: ProxyPre<State>,
    databases: Arc<[String]>,
    key_value_stores: Arc<[String]>,
    allowed_outbound_hosts: Arc<[String]>,
    templates: Arc<std::collections::BTreeMap<String, String>>,
}

/// A loaded application. Cloning is cheap: the compiled components are shared, so tests can
/// serve the same components over several databases, variables and client addresses.
#[derive(Clone)]
pub struct App {
    engine: Engine,
    application: Arc<Application>,
    components: Arc<Vec<Loaded>>,
    router: Arc<Router>,
    database: Arc<Database>,
    key_value: KeyValueStores,
    variables: Variables,
    client_addr: Option<SocketAddr>,
    statement_log: Option<StatementLog>,
    pool: Option<Arc<Pool>>,
    log_dir: Option<Arc<PathBuf>>,
}

impl App {
    /// Load `spin.toml` and compile its components (from a cache beside the build output
    /// when nothing changed). The database is to be chosen with [`App::with_database`];
    /// [`App::database`] is Spin's default, `.spin/sqlite_db.db`, until then.
    pub fn load(manifest_path: &Path) -> Result<Self> {
        let manifest = Manifest::load(manifest_path)?;
        let engine = Engine::new(&engine_config())?;
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        spin::add_to_linker(&mut linker)?;

        let cache = manifest.dir.join("target").join("testhost-cache");
        let mut components = Vec::new();
        let mut router = Router::default();
        // What Spin checks `allowed_outbound_hosts` with when it loads the app.
        let defaults = Variables {
            from_environment: false,
            ..Variables::new(&manifest.variables)
        };
        for trigger in &manifest.trigger.http {
            let index = match components
                .iter()
                .position(|c: &Loaded| c.id == trigger.component)
            {
                Some(i) => i,
                None => {
                    let c = &manifest.component[&trigger.component];
                    for label in &c.sqlite_databases {
                        if label != "default" {
                            bail!(
                                "One or more components use SQLite databases which are not defined.\n\
                                 - Component {} uses database '{label}'",
                                trigger.component
                            );
                        }
                    }
                    // Spin's check when it loads the app: only stores it has (here `default`,
                    // before any `with_key_value_store`).
                    for label in &c.key_value_stores {
                        if label != "default" {
                            bail!(
                                "unknown key_value_stores label {label:?} for component {:?}",
                                trigger.component
                            );
                        }
                    }
                    crate::outbound::check_entries(
                        &trigger.component,
                        &c.allowed_outbound_hosts,
                        &defaults,
                    )?;
                    let component = compile(&engine, &manifest.source(c), &cache)?;
                    let pre = ProxyPre::new(linker.instantiate_pre(&component)?)
                        .map_err(anyhow::Error::from)
                        .with_context(|| {
                            format!("component {} is not a wasi:http handler", trigger.component)
                        })?;
                    components.push(Loaded {
                        id: trigger.component.clone(),
                        pre,
                        databases: c.sqlite_databases.clone().into(),
                        key_value_stores: c.key_value_stores.clone().into(),
                        allowed_outbound_hosts: c.allowed_outbound_hosts.clone().into(),
                        templates: Arc::new(c.variables.clone()),
                    });
                    components.len() - 1
                }
            };
            router.add(&trigger.route, index)?;
        }
        let app = Self {
            engine,
            components: Arc::new(components),
            router: Arc::new(router),
            database: Arc::new(Database::File(manifest.default_database())),
            key_value: KeyValueStores::default().with(
                "default",
                &KeyValueStore::File(manifest.default_key_value_store()),
            )?,
            variables: Variables::new(&manifest.variables),
            client_addr: None,
            statement_log: None,
            pool: None,
            log_dir: None,
            // Last: the manifest is read above.
            application: Arc::new(manifest.application),
        };
        Ok(app)
    }

    /// Serve over this SQLite file (shared by all components; created on first use, its
    /// directory when serving starts, [`serve`]). Like Spin, the host leaves its journal mode
    /// alone: SQLite's rollback journal on a new file.
    pub fn with_database(mut self, path: &Path) -> Self {
        self.database = Arc::new(Database::File(path.to_path_buf()));
        if self.pool.is_some() {
            self.pool = Some(Arc::default());
        }
        self
    }

    /// Serve over this database: a file (as [`App::with_database`]) or a libSQL server, as
    /// `[sqlite_database.default]` in Spin's runtime config names it.
    pub fn with_database_config(self, database: &Database) -> Self {
        match database {
            Database::File(path) => self.with_database(path),
            Database::Libsql { .. } => Self {
                database: Arc::new(database.clone()),
                ..self
            },
        }
    }

    /// Serve the key-value store `label` from this SQLite file or Redis server, as Spin's
    /// runtime config does with `[key_value_store.<label>]` (`default` is
    /// [`Manifest::default_key_value_store`] until then). A file, its directory and Spin's
    /// table are created at the store's first `open`; a server is reached then. Spin resolves
    /// a relative `path` from the runtime config's directory; here it is taken as given. Only
    /// `default` can be in a component's `key_value_stores`: another label is a store the
    /// components may not open. Refused, as Spin refuses to start, for a Redis URL that
    /// cannot be parsed.
    pub fn with_key_value_store(mut self, label: &str, store: &KeyValueStore) -> Result<Self> {
        self.key_value = self.key_value.with(label, store)?;
        Ok(self)
    }

    /// Serve the database and key-value stores a runtime-config file names (the others as
    /// they were), as `spin up --runtime-config-file` does.
    pub fn with_runtime_config(mut self, config: &RuntimeConfig) -> Result<Self> {
        if let Some(database) = &config.database {
            self = self.with_database_config(database);
        }
        for (label, store) in &config.key_value_stores {
            self = self.with_key_value_store(label, store)?;
        }
        Ok(self)
    }

    /// Where a key-value store is, if the app has one of that label.
    pub fn key_value_store(&self, label: &str) -> Option<KeyValueStore> {
        self.key_value.store(label)
    }

    /// Set an application variable, above the environment (`SPIN_VARIABLE_*`) and defaults.
    pub fn with_variable(mut self, name: &str, value: &str) -> Self {
        let mut overrides = (*self.variables.overrides).clone();
        overrides.insert(name.to_string(), value.to_string());
        self.variables.overrides = Arc::new(overrides);
        self
    }

    /// Ignore `SPIN_VARIABLE_*` in this process's environment (tests set their own).
    pub fn without_environment(mut self) -> Self {
        self.variables.from_environment = false;
        self
    }

    /// Report this client address to the components (`spin-client-addr`) instead of the
    /// real peer's, so a test on loopback can act as a remote client.
    pub fn with_client_addr(mut self, addr: SocketAddr) -> Self {
        self.client_addr = Some(addr);
        self
    }

    /// How `open` gets its connection: [`Connections::New`] (Spin's way, the default) or
    /// [`Connections::Reuse`] (for the benchmark).
    pub fn with_connections(mut self, connections: Connections) -> Self {
        self.pool = match connections {
            Connections::New => None,
            Connections::Reuse => Some(Arc::default()),
        };
        self
    }

    /// Record every SQL statement the components run into `log`.
    /// Write each component's output to `<dir>/<component>_stdout.txt` and `_stderr.txt`,
    /// appending, as `spin up --log-dir` does, instead of to this process's own.
    pub fn with_log_dir(mut self, dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        self.log_dir = Some(Arc::new(dir.to_path_buf()));
        Ok(self)
    }

    pub fn with_statement_log(mut self, log: StatementLog) -> Self {
        self.statement_log = Some(log);
        self
    }

    /// The component's WASI context: its output to the log directory, or to ours.
    fn wasi(&self, component: &str) -> Result<WasiCtx> {
        let mut wasi = WasiCtx::builder();
        match &self.log_dir {
            Some(dir) => {
                let log = |stream: &str| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join(format!("{component}_{stream}.txt")))
                        .map(OutputFile::new)
                };
                wasi.stdout(log("stdout")?).stderr(log("stderr")?);
            }
            None => {
                wasi.inherit_stdout().inherit_stderr();
            }
        }
        Ok(wasi.build())
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Handle one request as Spin would: Spin's own routes first ([`crate::well_known`]),
    /// then route it (404, empty, when nothing matches), add Spin's headers after the
    /// client's, and run the component in a fresh store.
    pub async fn handle(
        &self,
        mut req: hyper::Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<hyper::Response<HyperOutgoingBody>> {
        if let Some(response) = crate::well_known::answer(req.uri().path(), &self.application) {
            return Ok(response);
        }
        let Some(route) = self.router.route(req.uri().path()) else {
            return Ok(empty(404));
        };
        let component = &self.components[route.component];

        // Spin gives the guest an absolute URI: scheme of the listener, authority from Host.
        let host = match req
            .headers()
            .get(http::header::HOST)
            .map(HeaderValue::to_str)
        {
            None => "localhost".to_string(),
            Some(Ok(h)) => h.to_string(),
            Some(Err(_)) => return Ok(empty(400)),
        };
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        match Uri::builder()
            .scheme("http")
            .authority(host.as_str())
            .path_and_query(path_and_query.as_str())
            .build()
        {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return Ok(empty(400)),
        }
        let client = self.client_addr.unwrap_or(peer);
        let spin_headers = [
            ("spin-path-info", route.path_info),
            ("spin-full-url", format!("http://{host}{path_and_query}")),
            ("spin-matched-route", route.based_route),
            ("spin-base-path", "/".to_string()),
            ("spin-raw-component-route", route.raw_route),
            ("spin-component-route", route.component_route),
            ("spin-client-addr", client.to_string()),
        ];
        for (name, value) in spin_headers {
            req.headers_mut()
                .append(name, HeaderValue::from_str(&value)?);
        }

        let state = State {
            table: ResourceTable::new(),
            wasi: self.wasi(&component.id)?,
            http: WasiHttpCtx::new(),
            sqlite: Sqlite {
                default: self.database.clone(),
                allowed: component.databases.clone(),
                log: self.statement_log.clone(),
                pool: self.pool.clone(),
            },
            variables: ComponentVariables {
                component: component.id.clone(),
                templates: component.templates.clone(),
                app: self.variables.clone(),
            },
            key_value: KeyValue {
                stores: self.key_value.clone(),
                allowed: component.key_value_stores.clone(),
            },
            outbound: OutboundHttp::new(
                component.allowed_outbound_hosts.clone(),
                self.variables.clone(),
            ),
            open_connections: 0,
        };
        let mut store = Store::new(&self.engine, state);
        // No deadline, as Spin's stores start ("practically forever").
        store.set_epoch_deadline(u64::MAX / 2);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = component.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, out)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => {
                eprintln!("Error processing request: {e:?}");
                Ok(empty(500))
            }
            Err(_) => {
                let e = match task.await {
                    Ok(Ok(())) => anyhow::anyhow!("guest never invoked `response-outparam::set`"),
                    Ok(Err(e)) => e.into(),
                    Err(e) => e.into(),
                };
                eprintln!("Error processing request: {e:?}");
                Ok(empty(500))
            }
        }
    }
}

/// Spin's engine settings (spin-core's `Config::default`): the pooling instance allocator with
/// Spin's default limits, which keeps per-request instantiation cheap; the component-model
/// async ABI; and epoch interruption, whose checks Spin's compiled code carries (Spin ticks
/// the epoch for its request deadlines; with none set, nothing here ticks it).
fn engine_config() -> Config {
    const MB: usize = 1 << 20;
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(1_000)
        .max_component_instance_size(10 * MB)
        .max_core_instance_size(10 * MB)
        .max_core_instances_per_component(200)
        .max_tables_per_component(20)
        .table_elements(30_000)
        .max_memories_per_component(32)
        .total_memories(1_000)
        .total_tables(2_000)
        .max_memory_size(4 << 30)
        .linear_memory_keep_resident(2 * MB)
        .table_keep_resident(MB / 2);
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    config
}

/// Serve `app` on `listener` until the task is dropped, on the socket as Spin's HTTP trigger
/// does (`crates/trigger-http`, `server.rs`): HTTP/1.1 with keep-alive or HTTP/2 (hyper-util's
/// `auto` builder), one task per connection, and no `TCP_NODELAY`, so that a response written
/// in several pieces waits on Nagle's algorithm here exactly as it does under `spin up`.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> Result<()> {
    // The database file's directory, as Spin makes its state directory (`.spin`) when it
    // starts.
    if let Database::File(path) = app.database() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    loop {
        let (stream, peer) = listener.accept().await?;
        let app = app.clone();
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { app.handle(req, peer).await }
            });
            // A client that goes away mid-request is not the server's error.
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn empty(status: u16) -> hyper::Response<HyperOutgoingBody> {
    let body = http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("a valid status");
    response
}

/// Compile a component, turning a wasip1 module into a component first the way Spin does
/// (wit-component with the reactor adapter). The compiled code is cached, keyed by the
/// source's bytes and the engine's settings, so a restart does not recompile.
fn compile(engine: &Engine, source: &Path, cache: &Path) -> Result<Component> {
    let bytes = std::fs::read(source).with_context(|| {
        format!(
            "failed to read component source from disk at path {}",
            source.display()
        )
    })?;
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let cached = cache.join(format!("{:016x}.cwasm", hasher.finish()));
    if cached.exists() {
        // SAFETY: the file was written by `Component::serialize` below, for this engine.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok(component);
        }
    }
    let bytes = if wasmparser::Parser::is_core_wasm(&bytes) {
        wit_component::ComponentEncoder::default()
            .validate(true)
            .module(&bytes)?
            .adapter(
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )?
            .encode()
            .with_context(|| format!("cannot turn {} into a component", source.display()))?
    } else {
        bytes
    };
    let component = Component::new(engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile {}", source.display()))?;
    if std::fs::create_dir_all(cache).is_ok() {
        let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, component.serialize()?).is_ok() {
            let _ = std::fs::rename(&tmp, &cached);
        }
    }
    Ok(component)
}
