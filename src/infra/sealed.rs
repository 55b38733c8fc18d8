//! Every column that holds a value encrypted with `DataKeys`, in one list.
//! The AAD a value is bound to comes from its entry, and `rotate-keys` walks
//! the list, so a new encrypted column is one entry here and rotation cannot
//! miss it (a test checks the list against the schema).

use std::fmt::Display;

use anyhow::Context;
use sqlx::PgPool;
use uuid::Uuid;

use crate::infra::crypto::DataKeys;

/// An encrypted column, in a table whose key is `id uuid`.
#[derive(Debug)]
pub struct Sealed {
    pub table: &'static str,
    pub column: &'static str,
}

impl Sealed {
    /// What a value is bound to: its table, column and row, so a value
    /// copied to another row or column does not decrypt.
    pub fn aad(&self, row: impl Display) -> String {
        format!("{}.{}:{row}", self.table, self.column)
    }
}

/// A learner's phone number (accounts).
pub const USER_PHONE: Sealed = Sealed {
    table: "users",
    column: "phone_enc",
};
/// A saved billing address (commerce).
pub const BILLING_ADDRESS: Sealed = Sealed {
    table: "billing_addresses",
    column: "address_enc",
};
/// The copy of the billing address an order keeps (commerce).
pub const ORDER_BILLING: Sealed = Sealed {
    table: "orders",
    column: "billing_snapshot_enc",
};

pub const ALL: &[Sealed] = &[USER_PHONE, BILLING_ADDRESS, ORDER_BILLING];

/// Rows re-encrypted per transaction.
const BATCH: i64 = 500;

/// Re-encrypts every value not under the newest key, column by column, in
/// batches of one transaction each. A value changed meanwhile by the
/// application is left to it (it was written with the newest key anyway).
/// Returns how many values changed per column.
pub async fn rotate(db: &PgPool, keys: &DataKeys) -> anyhow::Result<Vec<(&'static Sealed, u64)>> {
    let mut report = Vec::with_capacity(ALL.len());
    for sealed in ALL {
        let (table, column) = (sealed.table, sealed.column);
        // Names come from the constant list above, never from input.
        let select = format!(
            "SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL AND id > $1 ORDER BY id LIMIT $2"
        );
        let update = format!("UPDATE {table} SET {column} = $2 WHERE id = $1 AND {column} = $3");
        let mut changed = 0;
        let mut after = Uuid::nil();
        loop {
            let mut tx = db.begin().await?;
            let rows: Vec<(Uuid, Vec<u8>)> = sqlx::query_as(&select)
                .bind(after)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await
                .with_context(|| format!("reading {table}.{column}"))?;
            let Some((last, _)) = rows.last() else {
                break;
            };
            after = *last;
            for (id, blob) in &rows {
                if !keys.is_stale(blob) {
                    continue;
                }
                let aad = sealed.aad(id);
                let plain = keys
                    .decrypt(blob, &aad)
                    .with_context(|| format!("decrypting {table}.{column} of {id}"))?;
                let fresh = keys.encrypt(&plain, &aad)?;
                changed += sqlx::query(&update)
                    .bind(id)
                    .bind(&fresh)
                    .bind(blob)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        }
        report.push((sealed, changed));
    }
    Ok(report)
}
