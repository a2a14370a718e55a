//! The database searched through its own catalog: every text column of every table, for the
//! values that name an account (SPEC §6.4: after a closure no row anywhere names it).

use server::db::Db;

/// Every text column of every table, from the database's own catalog rather than a list kept
/// by hand, so a table added later is searched too: `(table, column)`. Left out: sqlx's
/// migration ledger, and the payment simulator's tables (`sim_`), which stand for the card
/// gateway's and PayPal's own records, kept outside Account Center by the companies that run them.
pub async fn text_columns(db: &Db) -> Vec<(String, String)> {
    let sql = if super::on_postgres() {
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')
         ORDER BY 1, 2"
    } else {
        "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
           AND (upper(c.type) LIKE '%TEXT%' OR upper(c.type) LIKE '%CHAR%')
         ORDER BY 1, 2"
    };
    let columns: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(db).await.unwrap();
    assert!(
        columns
            .iter()
            .any(|(t, c)| t == "outbox" && c == "recipient"),
        "the catalog lists the schema: {columns:?}"
    );
    columns
        .into_iter()
        .filter(|(table, _)| table != "_sqlx_migrations" && !table.starts_with("sim_"))
        .collect()
}

/// What names an account: its id, UID, email and phones, and the id of each of its rows in any
/// table with an `account_id` (jobs and other rows refer to the account by those).
pub async fn names_of(db: &Db, account: &str, phones: &[&str]) -> Vec<String> {
    let (uid, email): (String, String) =
        sqlx::query_as("SELECT uid, email FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_one(db)
            .await
            .unwrap();
    let mut names = vec![account.to_owned(), uid, email];
    names.extend(phones.iter().map(|p| p.to_string()));
    let columns = text_columns(db).await;
    let has = |table: &str, column: &str| columns.iter().any(|(t, c)| t == table && c == column);
    for (table, _) in columns.iter().filter(|(_, c)| c == "account_id") {
        if has(table, "id") {
            let ids: Vec<String> =
                sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE account_id = $1"))
                    .bind(account)
                    .fetch_all(db)
                    .await
                    .unwrap();
            names.extend(ids);
        }
    }
    names
}

/// Every `(table, column, value)` whose text contains one of `names`: each text column of the
/// catalog searched with `LIKE '%' || name || '%'`, which finds values that embed a name too
/// (`account:<id>:closure`, `<email>/<RAM user>`).
pub async fn rows_naming(db: &Db, names: &[String]) -> Vec<(String, String, String)> {
    let backend = server::db::backend(db);
    let list = server::db::json_table(backend, 1, "n", server::db::JsonList::Texts);
    let names = server::db::json_texts(names.iter().map(String::as_str));
    let mut found = Vec::new();
    for (table, column) in text_columns(db).await {
        let values: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT t.\"{column}\" FROM {table} t JOIN {list} ON t.\"{column}\" LIKE '%' || n.value || '%'"
        ))
        .bind(&names)
        .fetch_all(db)
        .await
        .unwrap();
        found.extend(
            values
                .into_iter()
                .map(|v| (table.clone(), column.clone(), v)),
        );
    }
    found.sort();
    found
}
