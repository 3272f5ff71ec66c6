//! Lists as administrators use them (issue 26): `search`, `order`, `direction` and exact
//! filters on every list (`components/common/src/listing.rs`, `migrations/0014_lists.sql`).

use crate::support::Server;
use serde_json::{json, Value};

fn created(s: &Server, path: &str, body: Value) -> i64 {
    let r = s.post(path, &body);
    r.expect(201);
    match r.json() {
        Value::Number(id) => id.as_i64().unwrap(),
        made => made["id"].as_i64().unwrap(),
    }
}

/// The ids of a `{total, items}` list (or a bare array), and its total.
fn ids(s: &Server, path: &str) -> (Vec<i64>, i64) {
    let r = s.get(path);
    r.expect(200);
    let body = r.json();
    let items = body
        .get("items")
        .unwrap_or(&body)
        .as_array()
        .unwrap()
        .clone();
    let ids = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let total = body["total"].as_i64().unwrap_or(-1);
    (ids, total)
}

fn found(s: &Server, path: &str) -> Vec<i64> {
    ids(s, path).0
}

#[test]
fn users_are_found_by_substring_case_and_accents_ignored() {
    let s = Server::start();
    let users = "/1.0/users/";
    let helene = created(
        &s,
        users,
        json!({"firstname": "Hélène", "lastname": "Dupont", "line": {"number": "44500"},
               "mobilephonenumber": "0611223344", "username": "hd44"}),
    );
    let jean = created(
        &s,
        users,
        json!({"firstname": "Jean", "lastname": "DUPOND"}),
    );
    let elodie = created(
        &s,
        users,
        json!({"firstname": "Élodie", "lastname": "Martin", "description": "standard d'accueil"}),
    );

    for (search, want) in [
        ("dupon", vec![helene, jean]),
        ("HELENE", vec![helene]),
        ("h%C3%A9l%C3%A8ne", vec![helene]),
        ("%C3%89LOD", vec![elodie]),
        ("elodie%20martin", vec![elodie]),
        ("martin%20elodie", vec![elodie]),
        ("dupont+helene", vec![helene]),
        ("445", vec![helene]),
        ("1122", vec![helene]),
        ("d%27accueil", vec![elodie]),
        ("du", vec![helene, jean]),
        ("zzz", vec![]),
        ("%22%22", vec![]),
        ("", vec![helene, jean, elodie]),
    ] {
        assert_eq!(
            found(&s, &format!("{users}?search={search}")),
            want,
            "{search}"
        );
    }
    // `total` counts the matches; pages slice them.
    assert_eq!(
        ids(&s, "/1.0/users/?search=dupon&_page=2&_pagesize=1"),
        (vec![jean], 2)
    );

    // The index follows the writes: a new name, a new line, a deletion.
    s.put(
        &format!("/1.0/users/{helene}"),
        &json!({"lastname": "Durand"}),
    )
    .expect(200);
    assert_eq!(found(&s, "/1.0/users/?search=dupont"), Vec::<i64>::new());
    assert_eq!(found(&s, "/1.0/users/?search=durand%20h"), vec![helene]);
    s.put(
        &format!("/1.0/users/{helene}"),
        &json!({"line": {"number": "55501"}}),
    )
    .expect(200);
    assert_eq!(found(&s, "/1.0/users/?search=445"), Vec::<i64>::new());
    assert_eq!(found(&s, "/1.0/users/?search=5550"), vec![helene]);
    s.delete(&format!("/1.0/users/{jean}")).expect(200);
    assert_eq!(found(&s, "/1.0/users/?search=dupon"), Vec::<i64>::new());

    // The voicemail's email is the user's.
    let mailbox = created(
        &s,
        "/1.0/voicemails/",
        json!({"mailbox": "8001", "email": "elodie@example.com"}),
    );
    s.put(
        &format!("/1.0/users/{elodie}"),
        &json!({"voicemailid": mailbox}),
    )
    .expect(200);
    assert_eq!(found(&s, "/1.0/users/?search=elodie%40"), vec![elodie]);
    s.put(
        &format!("/1.0/voicemails/{mailbox}"),
        &json!({"email": "accueil@example.com"}),
    )
    .expect(200);
    assert_eq!(found(&s, "/1.0/users/?search=elodie%40"), Vec::<i64>::new());
    assert_eq!(found(&s, "/1.0/users/?search=accueil%40"), vec![elodie]);
}

#[test]
fn users_ordered_and_filtered() {
    let s = Server::start();
    let id = |lastname: &str, enableclient: bool| {
        created(
            &s,
            "/1.0/users/",
            json!({"lastname": lastname, "enableclient": enableclient, "language": "fr_FR"}),
        )
    };
    let (b, upper_a, c, lower_a) = (id("b", true), id("A", false), id("c", true), id("a", false));

    // Without the new parameters, the 2013 order.
    assert_eq!(found(&s, "/1.0/users/"), vec![b, upper_a, c, lower_a]);
    assert_eq!(
        found(&s, "/1.0/users/?order=lastname"),
        vec![upper_a, lower_a, b, c]
    );
    assert_eq!(
        found(&s, "/1.0/users/?order=lastname&direction=desc"),
        vec![c, b, lower_a, upper_a]
    );
    assert_eq!(
        found(&s, "/1.0/users/?direction=desc"),
        vec![lower_a, c, upper_a, b]
    );
    assert_eq!(
        found(&s, "/1.0/users/?order=id&direction=asc"),
        vec![b, upper_a, c, lower_a]
    );
    // Pages of an order with ties neither overlap nor skip.
    let paged: Vec<i64> = (1..=4)
        .flat_map(|page| {
            found(
                &s,
                &format!("/1.0/users/?order=lastname&_page={page}&_pagesize=1"),
            )
        })
        .collect();
    assert_eq!(paged, vec![upper_a, lower_a, b, c]);

    // Exact filters, combined with AND; a repeated one takes any of its values.
    assert_eq!(found(&s, "/1.0/users/?lastname=a"), vec![lower_a]);
    assert_eq!(ids(&s, "/1.0/users/?enableclient=True"), (vec![b, c], 2));
    assert_eq!(
        found(&s, "/1.0/users/?lastname=b&lastname=A&order=lastname"),
        vec![upper_a, b]
    );
    assert_eq!(
        found(&s, "/1.0/users/?enableclient=0&language=fr_FR&lastname=A"),
        vec![upper_a]
    );
    assert_eq!(found(&s, "/1.0/users/?voicemailid=7"), Vec::<i64>::new());

    for (query, wrong) in [
        ("order=password", "order"),
        ("order=line", "order"),
        ("direction=up", "direction"),
        ("direction=DESC", "direction"),
        ("enableclient=maybe", "enableclient"),
        ("voicemailid=x", "voicemailid"),
        ("password=1234", "password"),
        ("line=44500", "line"),
        (
            "lastname=a&sort=lastname&order=id&order=nope",
            "sort, order",
        ),
    ] {
        s.get(&format!("/1.0/users/?{query}"))
            .expect_error(400, &[&format!("Incorrect parameters sent: {wrong}")]);
    }
    let long = "a".repeat(201);
    s.get(&format!("/1.0/users/?search={long}"))
        .expect_error(400, &["Incorrect parameters sent: search"]);
}

#[test]
fn every_list_takes_search_order_and_filters() {
    let s = Server::start();
    // Voicemails.
    let v1 = created(
        &s,
        "/1.0/voicemails/",
        json!({"mailbox": "1002", "fullname": "Zoé Roux"}),
    );
    let v2 = created(
        &s,
        "/1.0/voicemails/",
        json!({"mailbox": "1001", "fullname": "Luc Blanc", "attach": true}),
    );
    assert_eq!(found(&s, "/1.0/voicemails/?search=zoe"), vec![v1]);
    assert_eq!(found(&s, "/1.0/voicemails/?order=mailbox"), vec![v2, v1]);
    assert_eq!(found(&s, "/1.0/voicemails/?attach=true"), vec![v2]);

    // Agents and queues: bare arrays, by number unless ordered otherwise.
    let agents = "/1.0/CallCenter/agents/";
    let a1 = created(
        &s,
        agents,
        json!({"number": "20", "firstname": "Émile", "lastname": "Zola", "context": "support"}),
    );
    let a2 = created(
        &s,
        agents,
        json!({"number": "100", "firstname": "Ana", "lastname": "Ávila", "context": "sales"}),
    );
    assert_eq!(found(&s, agents), vec![a2, a1]);
    assert_eq!(found(&s, &format!("{agents}?order=context")), vec![a2, a1]);
    assert_eq!(found(&s, &format!("{agents}?direction=desc")), vec![a1, a2]);
    assert_eq!(found(&s, &format!("{agents}?search=emile")), vec![a1]);
    assert_eq!(found(&s, &format!("{agents}?search=avila%20ana")), vec![a2]);
    assert_eq!(found(&s, &format!("{agents}?context=sales")), vec![a2]);
    let queues = "/1.0/CallCenter/queues/";
    let q1 = created(
        &s,
        queues,
        json!({"name": "support", "displayname": "Support technique", "number": "3001"}),
    );
    let q2 = created(
        &s,
        queues,
        json!({"name": "ventes", "displayname": "Équipe des ventes", "number": "3000"}),
    );
    assert_eq!(found(&s, queues), vec![q2, q1]);
    assert_eq!(found(&s, &format!("{queues}?search=equipe")), vec![q2]);
    assert_eq!(
        found(&s, &format!("{queues}?order=name&direction=desc")),
        vec![q2, q1]
    );
    assert_eq!(found(&s, &format!("{queues}?number=3001")), vec![q1]);

    // Campaigns: the search beside their own filters.
    let campaigns = "/1.0/recording_campaigns/";
    let c1 = created(
        &s,
        campaigns,
        json!({"campaign_name": "Qualité été", "activated": true, "base_filename": "ete"}),
    );
    let c2 = created(
        &s,
        campaigns,
        json!({"campaign_name": "Hiver", "activated": false, "base_filename": "hiver"}),
    );
    assert_eq!(found(&s, &format!("{campaigns}?search=qualite")), vec![c1]);
    assert_eq!(
        found(&s, &format!("{campaigns}?search=e&activated=false")),
        vec![c2]
    );
    assert_eq!(
        found(&s, &format!("{campaigns}?order=campaign_name")),
        vec![c2, c1]
    );
    s.get(&format!("{campaigns}?order=queue_id"))
        .expect_error(400, &["Incorrect parameters sent: order"]);

    // Tokens.
    let t1 = created(
        &s,
        "/1.0/tokens/",
        json!({"name": "CRM connecteur", "scopes": ["users:read"]}),
    );
    let t2 = created(
        &s,
        "/1.0/tokens/",
        json!({"name": "Hook", "scopes": ["recordings:write"]}),
    );
    assert_eq!(ids(&s, "/1.0/tokens/?search=connect"), (vec![t1], 1));
    assert_eq!(
        found(&s, "/1.0/tokens/?order=name&direction=desc"),
        vec![t2, t1]
    );
    assert_eq!(found(&s, "/1.0/tokens/?name=Hook"), vec![t2]);

    // Webhooks (none can be made to a host not allowed: the list is searched all the same).
    assert_eq!(
        ids(&s, "/1.0/webhooks/?search=example&order=url&active=true"),
        (vec![], 0)
    );
}

#[test]
fn odd_searches_are_answered() {
    let s = Server::start();
    let id = created(
        &s,
        "/1.0/users/",
        json!({"firstname": "a\"b*c(d)", "lastname": "NEAR OR x"}),
    );
    for (search, want) in [
        ("%22", vec![id]),
        ("a%22b*c", vec![id]),
        ("c(d)", vec![id]),
        ("NEAR%20OR", vec![id]),
        ("%2A%2A%2A", vec![]),
        ("%5C%25_", vec![]),
        ("%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80", vec![]),
    ] {
        assert_eq!(
            found(&s, &format!("/1.0/users/?search={search}")),
            want,
            "{search}"
        );
    }
    for nul in ["%00", "%00%00%00", "dup%00ont"] {
        s.get(&format!("/1.0/users/?search={nul}"))
            .expect_error(400, &["Incorrect parameters sent: search"]);
    }
}
