//! Recipients and admin tokens: creating recipients with their first credentials, IP access
//! lists, rotating and revoking tokens, describing a recipient.

use std::collections::BTreeMap;

use super::Run;
use crate::admin::StatementResult;
use crate::admin::sql::{ObjectKind, Statement};
use crate::catalog::{self, Tx};
use crate::clock::{format_ms, now_ms};
use crate::{Error, Result};

pub(super) fn execute(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    let text = run.text;
    let context = run.context;
    match statement {
        Statement::CreateRecipient {
            name,
            comment,
            token_lifetime,
            ip_access_list,
            oauth,
            properties,
            if_not_exists,
        } => {
            if let Some(list) = ip_access_list {
                crate::auth::ip::check_list(list)?;
            }
            let new = catalog::NewRecipient {
                name,
                comment: comment.as_deref(),
                token_lifetime_ms: token_lifetime.map(|d| d.as_millis() as i64),
                ip_access_list: ip_access_list.as_deref(),
                oauth: *oauth,
                properties: merged(BTreeMap::new(), properties)?,
            };
            if !tx.create_recipient(&new, *if_not_exists)? {
                return run.status("recipient exists, nothing done".to_string());
            }
            new_credentials(tx, text, name, context, format!("created recipient {name}"))
        }
        Statement::SetIpAccessList { recipient, list } => {
            if let Some(list) = list {
                crate::auth::ip::check_list(list)?;
            }
            tx.set_ip_access_list(recipient, list.as_deref())?;
            run.status(match list {
                Some(list) => format!("{recipient} may now call only from {}", list.join(", ")),
                None => format!("{recipient} may now call from any address"),
            })
        }
        Statement::SetRecipientProperties {
            recipient,
            properties,
        } => {
            let found = tx.require_recipient(recipient)?;
            tx.set_recipient_properties(&found.name, &merged(found.properties, properties)?)?;
            let keys: Vec<String> = properties.iter().map(|(k, _)| k.clone()).collect();
            run.status(format!(
                "set the {} of recipient {}",
                property_names(&keys),
                found.name
            ))
        }
        Statement::UnsetRecipientProperties { recipient, keys } => {
            unset_properties(tx, run, recipient, keys)
        }
        Statement::RotateToken { recipient, grace } => {
            let found = tx.require_recipient(recipient)?;
            let grace_until = now_ms().saturating_add(grace.map_or(0, |d| d.as_millis() as i64));
            let cut = tx.expire_for_rotation(&found.id, grace_until)?;
            let what = if found.oauth { "client" } else { "token" };
            let old = match (cut, grace) {
                (0, _) => format!("it had no live {what}"),
                (_, Some(_)) => {
                    format!("its current {what} works until {}", format_ms(grace_until))
                }
                (_, None) => format!("its previous {what}s stopped working"),
            };
            let done = format!("rotated the {what} of {}: {old}", found.name);
            new_credentials(tx, text, &found.name, context, done)
        }
        Statement::RevokeTokens { recipient } => {
            let found = tx.require_recipient(recipient)?;
            let revoked = tx.revoke_credentials(&found.id)?;
            let links = tx.withdraw_activation_links(&found.id)?;
            let what = if found.oauth { "client" } else { "token" };
            run.status(format!(
                "revoked {revoked} {what}{} of {} and withdrew {links} unused activation link{}",
                if revoked == 1 { "" } else { "s" },
                found.name,
                if links == 1 { "" } else { "s" }
            ))
        }
        Statement::DescribeRecipient { recipient } => describe_recipient(tx, text, recipient),
        Statement::ShowAdminTokens => {
            let now = now_ms();
            let rows = tx
                .admin_tokens()?
                .into_iter()
                .map(|t| {
                    let state = match (t.revoked_at, t.expires_at) {
                        (Some(at), _) => format!("revoked {}", format_ms(at)),
                        (None, Some(at)) if at <= now => "expired".to_string(),
                        (None, _) => "live".to_string(),
                    };
                    vec![
                        format!("{}…", t.prefix),
                        t.name,
                        t.role,
                        format_ms(t.created_at),
                        t.expires_at.map(format_ms).unwrap_or_default(),
                        state,
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["prefix", "name", "role", "created", "expires", "state"],
                rows,
            ))
        }
        Statement::RevokeAdminToken { prefix } => {
            // Listings show the prefix with an ellipsis: accept it pasted as shown.
            let prefix = prefix.trim_end_matches('…');
            tx.revoke_admin_token(prefix)?;
            run.status(format!("revoked the admin token {prefix}…"))
        }
        Statement::Drop {
            kind: ObjectKind::Recipient,
            name,
            if_exists,
        } => {
            let dropped = tx.drop_recipient(name, *if_exists)?;
            run.done_or_skipped(
                dropped,
                format!("dropped recipient {name} and revoked its tokens"),
                "no such recipient, nothing done",
            )
        }
        other => unreachable!("{} is run by another family", other.action()),
    }
}

/// "property a", "properties a, b".
fn property_names(keys: &[String]) -> String {
    let noun = if keys.len() == 1 {
        "property"
    } else {
        "properties"
    };
    format!("{noun} {}", keys.join(", "))
}

/// `ALTER RECIPIENT r UNSET PROPERTIES (…)`: each key must be there; the admin is told when
/// a partition filter of a granted share reads one.
fn unset_properties(
    tx: &Tx<'_>,
    run: &Run<'_>,
    recipient: &str,
    keys: &[String],
) -> Result<StatementResult> {
    let mut found = tx.require_recipient(recipient)?;
    for key in keys {
        let Some(existing) = found
            .properties
            .keys()
            .find(|k| k.eq_ignore_ascii_case(key))
            .cloned()
        else {
            return Err(Error::not_found(format!(
                "recipient {} has no property '{key}'",
                found.name
            )));
        };
        found.properties.remove(&existing);
    }
    tx.set_recipient_properties(&found.name, &found.properties)?;
    let mut notes = String::new();
    for grant in tx.grants_to_recipient(&found.name)? {
        notes += &super::shares::lacking_properties(tx, &grant.share, Some(&found.name))?;
    }
    run.status(format!(
        "removed the {} of recipient {}{notes}",
        property_names(keys),
        found.name
    ))
}

/// The most properties a recipient holds, and the longest key.
const MAX_PROPERTIES: usize = 100;
const MAX_PROPERTY_KEY: usize = 255;

/// `current` with `set` added or replacing (keys compare case-insensitively, as partition
/// filters read them).
fn merged(
    mut current: BTreeMap<String, String>,
    set: &[(String, String)],
) -> Result<BTreeMap<String, String>> {
    for (key, value) in set {
        if key.is_empty() || key.chars().count() > MAX_PROPERTY_KEY {
            return Err(Error::invalid(format!(
                "a property key must hold 1 to {MAX_PROPERTY_KEY} characters"
            )));
        }
        current.retain(|k, _| !k.eq_ignore_ascii_case(key));
        current.insert(key.clone(), value.clone());
    }
    if current.len() > MAX_PROPERTIES {
        return Err(Error::invalid(format!(
            "a recipient holds at most {MAX_PROPERTIES} properties; this would make {}",
            current.len()
        )));
    }
    Ok(current)
}

/// New credentials for `recipient`, shown once: OAuth client credentials for an OAuth
/// recipient, else an activation link (whose download holds the token).
fn new_credentials(
    tx: &catalog::Tx<'_>,
    text: &str,
    recipient: &str,
    context: &super::Context<'_>,
    done: String,
) -> Result<StatementResult> {
    let found = tx.require_recipient(recipient)?;
    let public_url = context.public_url.trim_end_matches('/');
    if found.oauth {
        let client = crate::auth::oauth::create_client(tx, &found.id)?;
        return Ok(StatementResult::table(
            text,
            &["status", "client_id", "client_secret", "token_endpoint"],
            vec![vec![
                done,
                client.client_id,
                client.client_secret,
                format!("{public_url}/oauth/token"),
            ]],
        ));
    }
    let (code, hash) = crate::auth::new_activation_code();
    let expires_at = now_ms().saturating_add(context.activation_ttl.as_millis() as i64);
    tx.insert_activation_link(&found.id, &hash, expires_at)?;
    let url = format!("{public_url}/activate/{code}");
    Ok(StatementResult::table(
        text,
        &["status", "activation_url", "expires"],
        vec![vec![done, url, format_ms(expires_at)]],
    ))
}

/// `DESCRIBE RECIPIENT`: its settings, tokens, activation links and grants, one row each.
fn describe_recipient(
    tx: &catalog::Tx<'_>,
    text: &str,
    recipient: &str,
) -> Result<StatementResult> {
    let found = tx.require_recipient(recipient)?;
    let now = now_ms();
    let when = |ms: Option<i64>| ms.map(format_ms).unwrap_or_default();
    let mut rows = vec![vec![
        "recipient".to_string(),
        found.name.clone(),
        format_ms(found.created_at),
        String::new(),
        String::new(),
        match found.token_lifetime_ms {
            Some(ms) => format!("tokens live {}", crate::clock::format_duration_ms(ms)),
            None => "tokens do not expire".to_string(),
        },
    ]];
    for (key, value) in &found.properties {
        rows.push(vec![
            "property".into(),
            key.clone(),
            String::new(),
            String::new(),
            String::new(),
            value.clone(),
        ]);
    }
    rows.push(vec![
        "ip access list".into(),
        found
            .ip_access_list
            .map_or("any address".to_string(), |l| l.join(", ")),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    for token in tx.recipient_tokens(&found.id)? {
        let state = match (token.revoked_at, token.expires_at) {
            (Some(at), _) => format!("revoked {}", format_ms(at)),
            (None, Some(at)) if at <= now => "expired".to_string(),
            (None, _) => "live".to_string(),
        };
        rows.push(vec![
            "token".into(),
            format!("{}…", token.prefix),
            format_ms(token.created_at),
            when(token.expires_at),
            when(token.last_used_at),
            state,
        ]);
    }
    for link in tx.activation_links(&found.id)? {
        let state = match (link.used_at, link.withdrawn_at) {
            (Some(at), _) => format!("used {}", format_ms(at)),
            (None, Some(_)) => "withdrawn".to_string(),
            (None, None) if link.expires_at <= now => "expired".to_string(),
            (None, None) => "unused".to_string(),
        };
        rows.push(vec![
            "activation link".into(),
            String::new(),
            format_ms(link.created_at),
            format_ms(link.expires_at),
            String::new(),
            state,
        ]);
    }
    for grant in tx.grants_to_recipient(&found.name)? {
        rows.push(vec![
            "grant".into(),
            format!("SELECT on share {}", grant.share),
            format_ms(grant.granted_at),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    Ok(StatementResult::table(
        text,
        &["kind", "name", "created", "expires", "last_used", "state"],
        rows,
    ))
}
