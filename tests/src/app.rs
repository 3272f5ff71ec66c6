//! The application as Spin runs it: every component of `spin.toml` compiled and
//! pre-instantiated once ([`crate::engine`]), a fresh store per request, whose data is here
//! ([`State`]); Spin's routing and request headers are the server's (`server.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::Engine;
use wasmtime_wasi::cli::OutputFile;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::engine::{compile, engine_config};
use crate::key_value::{KeyValue, KeyValueStores};
use crate::key_value_host::KeyValueState;
use crate::outbound::OutboundHttp;
use crate::runtime_config::{Database, KeyValueStore, RuntimeConfig};

use crate::manifest::{Application, Manifest};
use crate::routes::Router;
use crate::spin;
use crate::sqlite::{Connections, Pool, Sqlite, SqliteState, StatementLog};
use crate::variables::{ComponentVariables, Variables};

/// A request's store data: WASI's and wasi:http's, and each Spin interface's own state.
pub struct State {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    sqlite: SqliteState,
    variables: ComponentVariables,
    key_value: KeyValueState,
    outbound: OutboundHttp,
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

pub(crate) struct Loaded {
    id: String,
    pub(crate) pre: ProxyPre<State>,
    databases: Arc<[String]>,
    key_value_stores: Arc<[String]>,
    allowed_outbound_hosts: Arc<[String]>,
    templates: Arc<std::collections::BTreeMap<String, String>>,
}

/// A loaded application. Cloning is cheap: the compiled components are shared, so tests can
/// serve the same components over several databases, variables and client addresses.
#[derive(Clone)]
pub struct App {
    pub(crate) engine: Engine,
    pub(crate) application: Arc<Application>,
    pub(crate) components: Arc<Vec<Loaded>>,
    pub(crate) router: Arc<Router>,
    database: Arc<Database>,
    key_value: KeyValueStores,
    variables: Variables,
    pub(crate) client_addr: Option<SocketAddr>,
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
        spin::add_to_linker::<State, _, _, _>(
            &mut linker,
            |s| &mut s.sqlite,
            |s| &mut s.key_value,
            |s| &mut s.variables,
        )?;

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
    /// directory when serving starts, `serve`). Like Spin, the host leaves its journal mode
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

    /// Write each component's output to `<dir>/<component>_stdout.txt` and `_stderr.txt`,
    /// appending, as `spin up --log-dir` does, instead of to this process's own.
    pub fn with_log_dir(mut self, dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        self.log_dir = Some(Arc::new(dir.to_path_buf()));
        Ok(self)
    }

    /// Record every SQL statement the components run into `log`.
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

    /// A request's store data, for the component it is routed to.
    pub(crate) fn state(&self, component: &Loaded) -> Result<State> {
        Ok(State {
            table: ResourceTable::new(),
            wasi: self.wasi(&component.id)?,
            http: WasiHttpCtx::new(),
            sqlite: SqliteState::new(Sqlite {
                default: self.database.clone(),
                allowed: component.databases.clone(),
                log: self.statement_log.clone(),
                pool: self.pool.clone(),
            }),
            variables: ComponentVariables {
                component: component.id.clone(),
                templates: component.templates.clone(),
                app: self.variables.clone(),
            },
            key_value: KeyValueState::new(KeyValue {
                stores: self.key_value.clone(),
                allowed: component.key_value_stores.clone(),
            }),
            outbound: OutboundHttp::new(
                component.allowed_outbound_hosts.clone(),
                self.variables.clone(),
            ),
        })
    }
}
