//! `vigil users add|passwd|disable|enable|list`: console accounts, on the
//! server. Passwords come from an environment variable or standard input,
//! never the command line (which other users of the machine can read).

use anyhow::{bail, Context};
use std::io::BufRead;
use vigil_console::auth::hash_password;
use vigil_core::Config;
use vigil_store::{Role, Store, TenantScope};

/// Opens the alert store `config` names.
pub fn open_store(config: &Config) -> anyhow::Result<Store> {
    let Some(path) = config.store_path() else {
        bail!("the configuration has no [console] section, so there is no alert store; add [console] (see README)");
    };
    Ok(Store::open(&path)?)
}

/// The password from the variable `env`, or the first line of standard input.
fn read_password(env: Option<&str>) -> anyhow::Result<String> {
    if let Some(name) = env {
        return std::env::var(name)
            .with_context(|| format!("the environment variable {name} (--password-env) is not set"));
    }
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Parses `--roles dsl,admin`.
pub fn parse_roles(text: &str) -> anyhow::Result<Vec<Role>> {
    text.split(',')
        .map(|r| {
            Role::parse(r.trim())
                .with_context(|| format!("{r:?} is not a role: use dsl, ict, governor or admin (comma-separated)"))
        })
        .collect()
}

/// `vigil users add`.
pub fn add(config: &Config, name: &str, roles: &str, tenants: &str, password_env: Option<&str>) -> anyhow::Result<()> {
    let roles = parse_roles(roles)?;
    let tenants = TenantScope::parse(tenants).with_context(|| {
        format!("{tenants:?} is not a tenant list: name tenants comma-separated, or * for every tenant")
    })?;
    let store = open_store(config)?;
    let hash = hash_password(&read_password(password_env)?)?;
    store.add_user(name, &hash, &roles, &tenants)?;
    eprintln!("account {name} added");
    Ok(())
}

/// `vigil users passwd`.
pub fn passwd(config: &Config, name: &str, password_env: Option<&str>) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let hash = hash_password(&read_password(password_env)?)?;
    store.set_password(name, &hash)?;
    eprintln!("password of {name} changed; its sessions have ended");
    Ok(())
}

/// `vigil users disable` (or `enable`).
pub fn set_disabled(config: &Config, name: &str, disabled: bool) -> anyhow::Result<()> {
    open_store(config)?.set_disabled(name, disabled)?;
    eprintln!("account {name} {}", if disabled { "disabled; its sessions have ended" } else { "enabled" });
    Ok(())
}

/// `vigil users list`: one account a line.
pub fn list(config: &Config) -> anyhow::Result<()> {
    for account in open_store(config)?.accounts()? {
        let roles: Vec<&str> = account.roles.iter().map(|r| r.as_str()).collect();
        let state = if account.disabled { " (disabled)" } else { "" };
        println!("{}\t{}\t{}{state}", account.name, roles.join(","), account.tenants.to_text());
    }
    Ok(())
}
