//! `cargo bench -p testhost -- lists`: a directory of 100,000 users with names as a PBX has them
//! (French first and last names, accents included), searched and ordered through the API
//! (issue 26), beside the floor component under the same runtime and database.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use rusqlite::{params, Connection};

use crate::seed::Lcg;

/// How many users the section seeds.
pub const USERS: i64 = 100_000;

/// A surname five users have (1 in 20,000): what a search for one person finds.
pub const RARE: &str = "Vercingétorix";

const FIRST: &[&str] = &[
    "Jean",
    "Marie",
    "Pierre",
    "Élodie",
    "Françoise",
    "Luc",
    "Anne",
    "Hélène",
    "Paul",
    "Sophie",
    "Michel",
    "Chloé",
    "Nicolas",
    "Zoé",
    "Thomas",
    "Camille",
    "Julien",
    "Léa",
    "Antoine",
    "Manon",
    "Marc",
    "Inès",
    "Louis",
    "Agnès",
    "Hugo",
    "Noémie",
    "Jérôme",
    "Céline",
    "Rémi",
    "Maëlle",
];

const LAST: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèbvre",
    "Michel",
    "García",
    "Müller",
    "Rousseau",
    "Fontaine",
    "Chevalier",
    "Gauthier",
    "Perrin",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousset",
    "Blanc",
    "Guérin",
    "Boyer",
    "Roux",
    "Clément",
    "Noël",
    "Marchand",
    "Dumont",
    "Brun",
    "Lemoine",
    "Barbier",
];

/// Fill a migrated, empty database with [`USERS`] users (half with a line; their search index
/// kept by the schema's triggers, as for any write), five of them named [`RARE`].
pub fn seed(db: &Path) -> Result<()> {
    let started = Instant::now();
    let mut conn = Connection::open(db)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;")?;
    let tx = conn.transaction()?;
    {
        let mut user = tx.prepare(
            "INSERT INTO users (firstname, lastname, callerid, username, mobilephonenumber, language) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'fr_FR') RETURNING id",
        )?;
        let mut line = tx.prepare("INSERT INTO lines (user_id, number) VALUES (?1, ?2)")?;
        let mut rng = Lcg(26);
        for i in 0..USERS {
            let first = FIRST[rng.next(FIRST.len() as i64) as usize];
            let last = if i % (USERS / 5) == 7 {
                RARE.to_string()
            } else {
                // Real directories hold many surnames: one of 45, with one of 500 suffixes for
                // most (`Martin-Roux`, as double names are common), the plain name for others.
                let base = LAST[rng.next(LAST.len() as i64) as usize];
                match rng.next(3) {
                    0 => base.to_string(),
                    _ => format!("{base}-{}", LAST[rng.next(LAST.len() as i64) as usize]),
                }
            };
            let id: i64 = user.query_row(
                params![
                    first,
                    last,
                    format!("{first} {last}"),
                    format!("u{i}"),
                    format!("06{:08}", rng.next(100_000_000))
                ],
                |r| r.get(0),
            )?;
            if i % 2 == 0 {
                line.execute(params![id, format!("{}", 100_000 + i)])?;
            }
        }
    }
    tx.commit()?;
    eprintln!(
        "seeded {USERS} users for the lists in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A CSV of `n` users for `POST /1.0/users/import`: half with a line, a third with a voicemail
/// (mailboxes from `first_mailbox` on, so that several imports never collide).
pub fn csv(n: usize, first_mailbox: usize) -> String {
    let mut csv = String::from(
        "firstname,lastname,callerid,username,mobilephonenumber,language,line_number,\
         voicemail_mailbox,voicemail_email\n",
    );
    let mut rng = Lcg(first_mailbox as u64);
    for i in 0..n {
        let first = FIRST[rng.next(FIRST.len() as i64) as usize];
        let last = LAST[rng.next(LAST.len() as i64) as usize];
        let line = if i % 2 == 0 {
            format!("{}", first_mailbox + i)
        } else {
            String::new()
        };
        let voicemail = if i % 3 == 0 {
            format!(
                "{},{}.{}@example.com",
                first_mailbox + i,
                first.to_lowercase(),
                i
            )
        } else {
            ",".to_string()
        };
        csv.push_str(&format!(
            "{first},{last},\"\"\"{first} {last}\"\"\",u{first_mailbox}-{i},06{:08},fr_FR,{line},{voicemail}\n",
            rng.next(100_000_000)
        ));
    }
    csv
}
