//! The one translation layer of the web app: every string a person reads comes from [`Strings`], defined
//! once below with its English and Spanish text side by side (a missing translation does not compile).
//!
//! The language is chosen on the server (the user's saved preference, mirrored in the `tessera_lang`
//! cookie, else the browser's `Accept-Language`), written into `<html lang>`, and read back from there when
//! the page hydrates, so both renders agree. Switching is one signal: every string follows at once.

use leptos::prelude::*;

/// A shipped language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The language's own name, as a language menu shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// An integer with the language's digit grouping: `1,234,567` / `1.234.567`.
    pub fn integer(self, n: i64) -> String {
        let group = match self {
            Lang::En => ',',
            Lang::Es => '.',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(c);
        }
        out
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::En => &EN,
            Lang::Es => &ES,
        }
    }
}

/// The cookie that carries the chosen language (readable by the page, not a secret).
pub const LANG_COOKIE: &str = "tessera_lang";
/// The cookie that carries the chosen theme (`light` / `dark`; absent = follow the system).
pub const THEME_COOKIE: &str = "tessera_theme";

macro_rules! strings {
    ($($key:ident: $en:literal, $es:literal;)*) => {
        /// Every UI string, one field per message.
        pub struct Strings { $(pub $key: &'static str,)* }
        static EN: Strings = Strings { $($key: $en,)* };
        static ES: Strings = Strings { $($key: $es,)* };
    };
}

strings! {
    app_tagline: "A self-hosted data platform on a hybrid EAV store.", "Una plataforma de datos autoalojada sobre un almacén EAV híbrido.";
    loading: "Loading…", "Cargando…";
    save: "Save", "Guardar";
    close: "Close", "Cerrar";
    cancel: "Cancel", "Cancelar";
    delete: "Delete", "Eliminar";
    rename: "Rename", "Renombrar";
    revoke: "Revoke", "Revocar";
    create: "Create", "Crear";
    retry: "Retry", "Reintentar";
    never: "never", "nunca";
    none: "none", "ninguno";
    actions: "Actions", "Acciones";
    name: "Name", "Nombre";
    created: "Created", "Creado";
    expires: "Expires", "Caduca";
    status: "Status", "Estado";
    active: "active", "activo";
    inactive: "inactive", "inactivo";
    locked: "locked", "bloqueado";
    saved: "Saved.", "Guardado.";
    copy: "Copy", "Copiar";
    copied: "Copied to the clipboard.", "Copiado al portapapeles.";
    connection_lost: "The connection to Tessera was lost.", "Se perdió la conexión con Tessera.";
    server_error: "Something went wrong on the server; please try again.", "Algo falló en el servidor; inténtalo de nuevo.";
    session_expired: "Your session has ended. Sign in again to continue.", "Tu sesión ha terminado. Vuelve a iniciar sesión para continuar.";
    not_found_title: "Page not found", "Página no encontrada";
    not_found_back: "Back to Tessera", "Volver a Tessera";
    forbidden: "You do not have permission to see this page.", "No tienes permiso para ver esta página.";
    skip_to_content: "Skip to content", "Saltar al contenido";

    // Shell
    nav_main: "Main navigation", "Navegación principal";
    nav_home: "Home", "Inicio";
    nav_workspace: "Workspace", "Espacio de trabajo";
    nav_tables: "Tables", "Tablas";
    nav_no_tables: "No tables yet", "Aún no hay tablas";
    nav_schema: "Schema designer", "Diseñador de esquema";
    schema_title: "Schema designer", "Diseñador de esquema";
    schema_lead: "The workspace's tables and their columns.", "Las tablas del espacio de trabajo y sus columnas.";
    schema_columns: "Columns", "Columnas";
    schema_open_data: "Open data", "Abrir datos";
    schema_create_table: "Create table", "Crear tabla";
    schema_name_hint: "Lowercase letters, digits and underscores, starting with a letter.", "Minúsculas, dígitos y guiones bajos, empezando por una letra.";
    schema_hierarchical: "Hierarchical (rows have a parent)", "Jerárquica (las filas tienen padre)";
    schema_column_added: "Column added", "Columna añadida";
    schema_column_removed: "Column removed", "Columna quitada";
    schema_version: "schema version", "versión del esquema";
    schema_type: "Type", "Tipo";
    schema_rules: "Rules", "Reglas";
    schema_default: "Default", "Valor por defecto";
    schema_mandatory: "mandatory", "obligatoria";
    schema_unique: "unique", "única";
    schema_masking: "masking", "enmascarado";
    schema_masking_label: "Masking", "Enmascarado";
    schema_remove_column: "Remove", "Quitar";
    schema_delete_table: "Delete table", "Eliminar tabla";
    schema_delete_table_lead: "Deletes the table with all its rows. This cannot be undone.", "Elimina la tabla con todas sus filas. No se puede deshacer.";
    schema_add_column: "Add column", "Añadir columna";
    schema_from_library: "(from the attribute library)", "(de la biblioteca de atributos)";
    schema_settings: "Table settings", "Ajustes de la tabla";
    schema_cache_policy: "Cache policy", "Política de caché";
    schema_cache_none: "No caching", "Sin caché";
    schema_cache_full_table: "Whole table (query pages)", "Tabla completa (páginas de consulta)";
    schema_cache_individual_rows: "Individual rows", "Filas individuales";
    schema_cache_hint: "Cached reads are dropped on every write, on every server.", "Las lecturas en caché se descartan con cada escritura, en todos los servidores.";
    schema_order: "Order", "Orden";
    schema_reorder_hint: "Drag a row by its handle, or use its arrow buttons, to change the column order.", "Arrastre una fila por su asa, o use sus botones de flecha, para cambiar el orden de las columnas.";
    schema_drag_column: "Drag {} to another place", "Arrastrar {} a otro lugar";
    schema_move_up: "Move {} up", "Subir {}";
    schema_move_down: "Move {} down", "Bajar {}";
    schema_constraints: "Constraints", "Restricciones";
    schema_constraints_empty: "No constraints yet.", "Aún no hay restricciones.";
    schema_constraint_details: "Details", "Detalles";
    schema_drop_constraint: "Drop", "Eliminar";
    schema_constraint_declared: "Constraint declared", "Restricción declarada";
    schema_constraint_dropped: "Constraint dropped", "Restricción eliminada";
    schema_declare_constraint: "Declare a constraint", "Declarar una restricción";
    schema_declare: "Declare", "Declarar";
    schema_key_columns_hint: "Tick the columns in key order (without JavaScript, the table's order is used).", "Marque las columnas en el orden de la clave (sin JavaScript se usa el orden de la tabla).";
    schema_key_options: "Key (PRIMARY KEY, UNIQUE)", "Clave (PRIMARY KEY, UNIQUE)";
    schema_case_sensitive: "Case-sensitive", "Distingue mayúsculas y minúsculas";
    schema_case_insensitive: "case-insensitive", "sin distinguir mayúsculas";
    schema_json_paths: "Extended-property JSON paths (optional, comma-separated)", "Rutas JSON de propiedades extendidas (opcional, separadas por comas)";
    schema_foreign_key: "Foreign key (FOREIGN KEY)", "Clave foránea (FOREIGN KEY)";
    schema_referenced_table: "Referenced table", "Tabla referenciada";
    schema_pick_table: "(choose a table)", "(elija una tabla)";
    schema_on_delete: "On delete", "Al eliminar";
    schema_on_update: "On update", "Al actualizar";
    schema_match_type: "Match type", "Tipo de coincidencia";
    schema_check: "Check (CHECK)", "Comprobación (CHECK)";
    schema_check_expression: "Expression", "Expresión";
    schema_check_hint: "A boolean SQL expression over the table's columns, e.g. quantity > 0.", "Una expresión SQL booleana sobre las columnas de la tabla, p. ej. quantity > 0.";
    schema_check_valid: "The expression is valid.", "La expresión es válida.";
    schema_error_message: "Error message (optional)", "Mensaje de error (opcional)";
    diagram_title: "ER diagram", "Diagrama ER";
    diagram_lead: "Tables and the foreign keys between them.", "Las tablas y las claves foráneas entre ellas.";
    diagram_help: "Drag or use the arrow keys to move, the wheel or + and − to zoom; open a table by clicking it.", "Arrastre o use las flechas para moverse, la rueda o + y − para acercar; abra una tabla haciendo clic en ella.";
    diagram_zoom_in: "Zoom in", "Acercar";
    diagram_zoom_out: "Zoom out", "Alejar";
    diagram_reset: "Reset view", "Restablecer vista";
    grid_rows: "rows", "filas";
    grid_add_row: "Add row", "Añadir fila";
    grid_delete_rows: "Delete selected", "Eliminar seleccionadas";
    grid_delete_confirm: "Delete for good", "Eliminar definitivamente";
    grid_select_row: "Select row", "Seleccionar fila";
    grid_row: "Row", "Fila";
    grid_read_only: "Read only: you may not edit this table.", "Solo lectura: no puede editar esta tabla.";
    grid_conflict: "Someone else changed this row first.", "Otra persona cambió esta fila antes.";
    grid_conflict_version: "Its current version is", "Su versión actual es la";
    grid_reload: "Reload the row", "Recargar la fila";
    grid_overwrite: "Overwrite with my value", "Sobrescribir con mi valor";
    schema_rule_label: "Validation rule", "Regla de validación";
    schema_rule_parameters: "Rule parameters (JSON)", "Parámetros de la regla (JSON)";
    grid_undo_unavailable: "Those rows are no longer loaded; scroll to them to undo.", "Esas filas ya no están cargadas; desplácese hasta ellas para deshacer.";
    grid_paste_skipped: "Cells not pasted (beyond the table, not loaded or masked):", "Celdas no pegadas (fuera de la tabla, sin cargar o enmascaradas):";
    grid_rows_saved: "Rows saved:", "Filas guardadas:";
    grid_sort_hint: "Click to sort; Shift+click to add a sort key", "Clic para ordenar; Mayús+clic añade un criterio";
    grid_columns: "Columns", "Columnas";
    grid_width: "Width of", "Ancho de";
    grid_move_earlier: "Move earlier:", "Mover antes:";
    grid_move_later: "Move later:", "Mover después:";
    grid_tree: "Tree", "Árbol";
    grid_tree_toggle: "Open or close", "Abrir o cerrar";
    grid_tree_more: "More…", "Más…";
    grid_tree_empty: "No rows.", "Sin filas.";
    grid_undo: "Undo", "Deshacer";
    grid_duplicate: "Duplicate", "Duplicar";
    drawer_open: "Open row", "Abrir fila";
    drawer_title: "Row", "Fila";
    drawer_version: "Version", "Versión";
    drawer_code: "Code", "Código";
    drawer_display_value: "Display value", "Valor mostrado";
    drawer_parent: "Parent", "Padre";
    drawer_ext: "Extended properties (JSON)", "Propiedades extendidas (JSON)";
    drawer_json_object: "Must be a JSON object: { … }", "Debe ser un objeto JSON: { … }";
    drawer_saved: "Row saved", "Fila guardada";
    filter_title: "Filter", "Filtro";
    filter_groups: "Rows matching", "Filas que cumplen";
    filter_all: "all", "todas";
    filter_any: "any", "alguna";
    filter_of_these: "of these conditions", "de estas condiciones";
    filter_of_groups: "of the groups below", "de los grupos siguientes";
    filter_and: "and", "y";
    filter_or: "or", "o";
    filter_field: "Field", "Campo";
    filter_operator: "Operator", "Operador";
    filter_value: "Value", "Valor";
    filter_remove: "Remove condition", "Quitar condición";
    filter_add_condition: "Add condition", "Añadir condición";
    filter_add_group: "Add group", "Añadir grupo";
    filter_apply: "Apply", "Aplicar";
    filter_clear: "Clear", "Borrar";
    nav_admin: "Administration", "Administración";
    nav_users: "Users", "Usuarios";
    nav_roles: "Roles", "Roles";
    nav_audit: "Audit log", "Registro de auditoría";
    nav_account: "Account", "Cuenta";
    nav_api_docs: "API documentation", "Documentación de la API";
    user_menu: "User menu", "Menú de usuario";
    sign_out: "Sign out", "Cerrar sesión";
    theme: "Theme", "Tema";
    theme_system: "System", "Sistema";
    theme_light: "Light", "Claro";
    theme_dark: "Dark", "Oscuro";
    language: "Language", "Idioma";
    breadcrumbs: "Breadcrumbs", "Ruta de navegación";

    // Sign-in, setup, reset, enrollment
    sign_in_title: "Sign in", "Iniciar sesión";
    sign_in_lead: "Sign in to continue.", "Inicia sesión para continuar.";
    username_or_email: "Username or e-mail", "Usuario o correo electrónico";
    password: "Password", "Contraseña";
    sign_in: "Sign in", "Iniciar sesión";
    sign_in_passkey: "Sign in with a passkey", "Iniciar sesión con una llave de acceso";
    or: "or", "o";
    passkey_hint: "Enter your username first to use a passkey that is not discoverable.", "Escribe primero tu usuario para usar una llave de acceso no detectable.";
    passkey_unsupported: "This browser cannot use passkeys.", "Este navegador no admite llaves de acceso.";
    passkey_cancelled: "The passkey request was cancelled or timed out.", "La solicitud de la llave de acceso se canceló o caducó.";
    passkey_exists: "This authenticator already holds a passkey for this account.", "Este autenticador ya tiene una llave de acceso para esta cuenta.";
    passkey_failed: "The passkey could not be used ({}).", "No se pudo usar la llave de acceso ({}).";
    wrong_credentials: "Wrong username or password.", "Usuario o contraseña incorrectos.";
    limited: "Too many attempts.", "Demasiados intentos.";
    forgot_password: "Forgot your password?", "¿Olvidaste tu contraseña?";
    setup_title: "Welcome to Tessera", "Bienvenido a Tessera";
    setup_lead: "Create the Owner account. The setup token was printed in the server's output at first start.", "Crea la cuenta de Propietario. El token de configuración se mostró en la salida del servidor al primer arranque.";
    setup_token: "Setup token", "Token de configuración";
    username: "Username", "Usuario";
    email_optional: "E-mail (optional)", "Correo electrónico (opcional)";
    email: "E-mail", "Correo electrónico";
    display_name: "Display name", "Nombre visible";
    new_password_hint: "Password (at least 12 characters)", "Contraseña (al menos 12 caracteres)";
    create_owner: "Create the Owner", "Crear el Propietario";
    reset_title: "Reset your password", "Restablecer la contraseña";
    reset_lead: "Enter your e-mail or username. If an account matches, a link to set a new password is mailed to it.", "Escribe tu correo o usuario. Si hay una cuenta, se le enviará un enlace para elegir una contraseña nueva.";
    reset_send: "Send the link", "Enviar el enlace";
    reset_sent: "If an account matches, a link is on its way. It is valid for 30 minutes.", "Si hay una cuenta, el enlace va en camino. Es válido durante 30 minutos.";
    reset_choose: "Choose a new password", "Elige una contraseña nueva";
    reset_done: "Your password was changed. Sign in with it now.", "Tu contraseña se cambió. Inicia sesión con ella.";
    back_to_sign_in: "Back to sign-in", "Volver a iniciar sesión";
    enroll_title: "Register your passkey", "Registra tu llave de acceso";
    enroll_lead: "An administrator invited you to Tessera. Register a passkey on this device to sign in.", "Un administrador te invitó a Tessera. Registra una llave de acceso en este dispositivo para iniciar sesión.";
    enroll_button: "Register a passkey", "Registrar una llave de acceso";
    enroll_done: "Your passkey is registered. Sign in with it now.", "Tu llave de acceso está registrada. Inicia sesión con ella.";
    enroll_needs_js: "Registering a passkey needs JavaScript.", "Registrar una llave de acceso requiere JavaScript.";

    // Home
    home_signed_in_as: "Signed in as {}", "Sesión iniciada como {}";
    home_database: "Database: {} · {} migrations applied · workspace {}", "Base de datos: {} · {} migraciones aplicadas · espacio {}";
    home_cache: "Cache: {}", "Caché: {}";
    home_checks: "Checks: {}", "Comprobaciones: {}";
    home_check_again: "Check again", "Comprobar de nuevo";
    home_checking: "Checking the database…", "Comprobando la base de datos…";

    // Account
    account_title: "Account", "Cuenta";
    account_lead: "Your passkeys, sessions, password, API tokens and display preferences.", "Tus llaves de acceso, sesiones, contraseña, tokens de API y preferencias.";
    passkeys: "Passkeys", "Llaves de acceso";
    passkeys_lead: "Passkeys sign you in with this device's screen lock or a security key: nothing to type, nothing to steal.", "Las llaves de acceso inician sesión con el bloqueo de pantalla o una llave de seguridad: nada que escribir ni robar.";
    passkeys_empty: "No passkeys yet.", "Aún no hay llaves de acceso.";
    passkey_add: "Add a passkey", "Añadir una llave de acceso";
    passkey_added: "Passkey added.", "Llave de acceso añadida.";
    passkey_provider: "Provider", "Proveedor";
    passkey_last_used: "Last used", "Último uso";
    passkey_new_name: "New name", "Nombre nuevo";
    passkey_deleted: "Passkey deleted.", "Llave de acceso eliminada.";
    sessions: "Sessions", "Sesiones";
    sessions_lead: "Where you are signed in. Revoking a session signs that device out at once.", "Dónde tienes la sesión iniciada. Revocar una sesión cierra ese dispositivo al instante.";
    session_device: "Device", "Dispositivo";
    session_method: "Method", "Método";
    session_last_seen: "Last seen", "Última actividad";
    session_current: "this device", "este dispositivo";
    sessions_revoke_others: "Sign out everywhere else", "Cerrar las demás sesiones";
    sessions_revoked: "{} other sessions signed out.", "{} sesiones cerradas.";
    session_revoked: "Session revoked.", "Sesión revocada.";
    change_password: "Change password", "Cambiar la contraseña";
    change_password_lead: "Other sessions are signed out when the password changes.", "Las demás sesiones se cierran al cambiar la contraseña.";
    current_password: "Current password", "Contraseña actual";
    new_password: "New password", "Contraseña nueva";
    password_changed: "Password changed.", "Contraseña cambiada.";
    api_tokens: "API tokens", "Tokens de API";
    api_tokens_lead: "Tokens let scripts call the JSON API as you, limited to the scopes you give them.", "Los tokens permiten que los scripts llamen a la API JSON en tu nombre, limitados a los permisos indicados.";
    api_tokens_empty: "No API tokens.", "No hay tokens de API.";
    token_scopes: "Scopes (comma-separated, e.g. table:*:read)", "Permisos (separados por comas, p. ej. table:*:read)";
    token_expires: "Expires (optional)", "Caducidad (opcional)";
    token_create: "Create a token", "Crear un token";
    token_secret: "Copy this token now: it is shown only once.", "Copia este token ahora: solo se muestra una vez.";
    token_revoked: "revoked", "revocado";
    token_needs_js: "Showing a new token's secret needs JavaScript.", "Mostrar el secreto de un token nuevo requiere JavaScript.";
    token_last_used: "Last used", "Último uso";
    preferences: "Preferences", "Preferencias";
    time_zone: "Time zone", "Zona horaria";
    time_zone_hint: "Dates and times are shown in this zone.", "Las fechas y horas se muestran en esta zona.";

    // Administration: users
    users_title: "Users", "Usuarios";
    users_lead: "Invite people, reset lockouts and deactivate accounts.", "Invita a personas, desbloquea cuentas y desactívalas.";
    user_invite: "Invite a user", "Invitar a un usuario";
    user_invite_lead: "Leave the password empty to invite with a passkey enrollment link.", "Deja la contraseña vacía para invitar con un enlace de registro de llave de acceso.";
    user_invited: "User created.", "Usuario creado.";
    enrollment_link: "Enrollment link for {} (valid 7 days, shown once):", "Enlace de registro de {} (válido 7 días, se muestra una vez):";
    enrollment_issue: "Enrollment link", "Enlace de registro";
    user_deactivate: "Deactivate", "Desactivar";
    user_activate: "Activate", "Activar";
    user_unlock: "Reset lockout", "Desbloquear";
    user_unlocked: "Lockout reset.", "Cuenta desbloqueada.";
    user_updated: "User updated.", "Usuario actualizado.";
    user_roles: "Roles", "Roles";
    user_failed_logins: "Failed sign-ins", "Intentos fallidos";
    password_optional: "Password (optional)", "Contraseña (opcional)";

    // Administration: roles
    roles_title: "Roles and permissions", "Roles y permisos";
    roles_lead: "System roles are fixed; custom roles grant permissions, per table if needed, and may inherit from another role.", "Los roles del sistema son fijos; los personalizados conceden permisos, por tabla si hace falta, y pueden heredar de otro rol.";
    role_create: "Create a role", "Crear un rol";
    role_created: "Role created.", "Rol creado.";
    role_deleted: "Role deleted.", "Rol eliminado.";
    role_system: "system", "sistema";
    role_parent: "Inherits from", "Hereda de";
    description: "Description", "Descripción";
    permissions: "Permissions", "Permisos";
    permission: "Permission", "Permiso";
    permission_grant: "Grant", "Conceder";
    permission_granted: "Permission granted.", "Permiso concedido.";
    permission_revoked: "Permission revoked.", "Permiso revocado.";
    permission_table: "Table (for table permissions)", "Tabla (para permisos de tabla)";
    permission_any_table: "every table (*)", "todas las tablas (*)";
    resource: "Resource", "Recurso";
    action: "Action", "Acción";
    assign_role: "Assign a role", "Asignar un rol";
    role: "Role", "Rol";
    role_assigned: "Role assigned.", "Rol asignado.";
    role_unassigned: "Role removed.", "Rol retirado.";
    expires_optional: "Expires (optional)", "Caduca (opcional)";
    remove: "Remove", "Quitar";

    // Administration: audit
    audit_title: "Audit log", "Registro de auditoría";
    audit_lead: "Every sign-in, change and administrative action, newest first.", "Cada inicio de sesión, cambio y acción administrativa, de más reciente a más antiguo.";
    audit_filter: "Filter", "Filtrar";
    audit_action: "Action (e.g. LoginFailed)", "Acción (p. ej. LoginFailed)";
    audit_entity_type: "Entity type (user, row, role…)", "Tipo de entidad (user, row, role…)";
    audit_actor: "Actor (user id)", "Actor (id de usuario)";
    audit_from: "From", "Desde";
    audit_to: "To", "Hasta";
    audit_export: "Export CSV", "Exportar CSV";
    audit_when: "When", "Cuándo";
    audit_actor_col: "Actor", "Actor";
    audit_entity: "Entity", "Entidad";
    audit_ip: "IP", "IP";
    audit_details: "Details", "Detalles";
    audit_more: "Older entries", "Entradas anteriores";
    audit_empty: "No entries match.", "Ninguna entrada coincide.";
}

/// The current language of the page, shared through the context.
#[derive(Clone, Copy)]
pub struct I18n(pub RwSignal<Lang>);

impl I18n {
    /// The strings of the current language (tracked: a view that reads them follows a switch).
    pub fn t(self) -> &'static Strings {
        self.0.get().strings()
    }

    pub fn lang(self) -> Lang {
        self.0.get()
    }
}

/// The language context (provided by `App`).
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(|| I18n(RwSignal::new(Lang::default())))
}

/// Fills the `{}` placeholders of `template` in order.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut args = args.iter();
    let mut rest = template;
    while let Some(at) = rest.find("{}") {
        out.push_str(&rest[..at]);
        out.push_str(args.next().copied().unwrap_or(""));
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

/// A reactive string of the current language: `{tr(|s| s.sign_in)}` in a view or an attribute.
///
/// Every call returns the same closure type, so the view code that renders it is generated once for the
/// whole app rather than once per string (this keeps the wasm small).
pub fn tr(key: fn(&Strings) -> &'static str) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || key(i18n.t())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_order() {
        assert_eq!(fill("{} of {}", &["1", "2"]), "1 of 2");
        assert_eq!(fill("no args", &[]), "no args");
        assert_eq!(fill("{} {}", &["only"]), "only ");
    }

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(Lang::En.integer(1_234_567), "1,234,567");
        assert_eq!(Lang::Es.integer(-1_234_567), "-1.234.567");
        assert_eq!(Lang::En.integer(999), "999");
        assert_eq!(Lang::Es.integer(0), "0");
    }

    #[test]
    fn every_language_has_its_code() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
            assert!(!lang.strings().sign_in.is_empty());
        }
    }
}
