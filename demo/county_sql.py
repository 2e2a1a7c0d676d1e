"""The statements that generate a county at full size (demo.county): each fills one table from generate_series
and the rows already written, with PostgreSQL's random() seeded once (setseed), so that the same seed gives the
same county. Parameters are named (%(county)s …); the temporary tables gen_* are the county's lookups."""

# GB 11643: the check digit of the 17-digit body.
CHECK_DIGIT_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.ric_check(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT substr('10X98765432', (sum(substr(body, i::int, 1)::int * w) % 11)::int + 1, 1)
  FROM unnest(ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]) WITH ORDINALITY AS t(w, i)
$$
"""

LOOKUPS = """
DROP TABLE IF EXISTS gen_town, gen_village, gen_category;
CREATE TEMP TABLE gen_town AS
  SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id AS township_id
  FROM recipients_township WHERE county_id = %(county)s;
CREATE TEMP TABLE gen_village AS
  SELECT township_id, (row_number() OVER (PARTITION BY township_id ORDER BY id) - 1)::int AS k,
         (count(*) OVER (PARTITION BY township_id))::int AS nv, id AS village_id
  FROM recipients_village WHERE township_id IN (SELECT township_id FROM gen_town);
-- Categories with their departments and cumulative shares (低保 and 脱贫 dominate, as county reports show).
CREATE TEMP TABLE gen_category (category text, source text, lo float8, hi float8);
INSERT INTO gen_category VALUES
  ('DB', 'MZ', 0.00, 0.40), ('JD', 'XCZX', 0.40, 0.62), ('TK', 'MZ', 0.62, 0.70), ('DSR', 'MZ', 0.70, 0.78),
  ('BY', 'MZ', 0.78, 0.84), ('FP', 'XCZX', 0.84, 0.90), ('ZB', 'YB', 0.90, 0.93), ('QT', 'MZ', 0.93, 0.96),
  ('GE', 'MZ', 0.96, 0.98), ('SW', 'MZ', 0.98, 1.01);
"""

# Residents: birth date and sequence number from the row number, so that every ID is distinct.
PEOPLE = """
INSERT INTO recipients_person (id_number, name, sex, birth_date, phone, bank_name, bank_account,
                               created_at, updated_at, township_id, village_id)
SELECT g.body || pg_temp.ric_check(g.body), g.name, CASE WHEN g.i %% 2 = 1 THEN 'M' ELSE 'F' END, g.birth,
       g.phone,
       CASE WHEN g.b > 0 THEN (%(banks)s::text[])[g.b] ELSE '' END,
       CASE WHEN g.b > 0 THEN (%(bank_prefixes)s::text[])[g.b] || lpad(floor(random() * 1e13)::bigint::text, 13, '0')
            ELSE '' END,
       g.created, g.created, t.township_id, v.village_id
FROM (
  SELECT i, birth,
         %(region)s || to_char(birth, 'YYYYMMDD') || lpad(((i / 25550) * 10 + i %% 10)::text, 3, '0') AS body,
         substr(%(surnames)s, 1 + floor(random() * length(%(surnames)s))::int, 1)
           || substr(%(given)s, 1 + floor(random() * length(%(given)s))::int, 1)
           || CASE WHEN random() < 0.65 THEN substr(%(given)s, 1 + floor(random() * length(%(given)s))::int, 1)
                   ELSE '' END AS name,
         CASE WHEN random() < 0.8 THEN '1' || substr('3589', 1 + floor(random() * 4)::int, 1)
                                      || lpad(floor(random() * 1e9)::bigint::text, 9, '0') ELSE '' END AS phone,
         CASE WHEN random() < 0.85 THEN 1 + floor(random() * cardinality(%(banks)s::text[]))::int ELSE 0 END AS b,
         %(now)s::timestamptz - (random() * 1500) * interval '1 day' AS created,
         (i * 7) %% (SELECT count(*) FROM gen_town) AS town
  FROM (SELECT i, DATE '1940-01-01' + ((i::bigint * 7919) %% 25550)::int AS birth
        FROM generate_series(0, %(people)s - 1) i) s
) g
JOIN gen_town t ON t.idx = g.town
JOIN gen_village v ON v.township_id = t.township_id AND v.k = (g.i / 13) %% v.nv
ORDER BY g.i
"""

PICK = """
DROP TABLE IF EXISTS gen_pick, gen_outsider;
CREATE TEMP TABLE gen_pick AS
  SELECT (row_number() OVER (ORDER BY p.id))::int AS n, p.id, p.id_number, p.name, p.township_id, p.bank_name,
         p.bank_account
  FROM recipients_person p JOIN gen_town t ON t.township_id = p.township_id;
CREATE UNIQUE INDEX ON gen_pick (n);
CREATE INDEX ON gen_pick (id_number);
-- People treated in the county's hospitals who are not in its registry (yet).
CREATE TEMP TABLE gen_outsider AS
  SELECT i + 1 AS n, body || pg_temp.ric_check(body) AS id_number
  FROM (SELECT i, %(outsider_region)s || to_char(DATE '1945-01-01' + ((i::bigint * 7919) %% 25550)::int, 'YYYYMMDD')
                  || lpad(((i / 25550) * 10 + i %% 10)::text, 3, '0') AS body
        FROM generate_series(0, %(outsiders)s - 1) i) s;
CREATE UNIQUE INDEX ON gen_outsider (n);
"""

# One identity each, a second for one in five (脱贫 people who are also 低保, and others); one in eight ended.
IDENTITIES = """
INSERT INTO recipients_identity (category, source, valid_from, valid_to, created_at, updated_at, person_id)
SELECT c.category, c.source, g.valid_from,
       CASE WHEN g.ended THEN g.valid_from + (90 + floor(random() * 700))::int END,
       g.created, g.created, g.id
FROM (
  SELECT p.id, random() AS r, DATE '2019-01-01' + floor(random() * 2400)::int AS valid_from,
         random() < 0.12 AS ended, %(now)s::timestamptz - (random() * 400) * interval '1 day' AS created
  FROM gen_pick p
) g JOIN gen_category c ON g.r >= c.lo AND g.r < c.hi
ORDER BY g.id;
INSERT INTO recipients_identity (category, source, valid_from, valid_to, created_at, updated_at, person_id)
SELECT c.category, c.source, DATE '2021-01-01' + floor(random() * 1700)::int, NULL, i.created_at, i.created_at,
       i.person_id
FROM recipients_identity i
JOIN gen_pick p ON p.id = i.person_id
JOIN gen_category c ON c.category = CASE WHEN i.category = 'JD' THEN 'DB' ELSE 'DSR' END
WHERE i.category <> c.category AND (p.n::bigint * 48271) %% 100 < 20;
"""

IMPORTS = """
INSERT INTO settlements_settlementimport (created_at, file_name, file_hash, file_size, content, status, total_rows,
    errors, error_count, rows_added, rows_updated, rows_unchanged, rows_unregistered, updated_numbers, message,
    applied_at, duration_seconds, applied_by_id, created_by_id, processed_rows, error_kinds, attempts, sample,
    profile_mapping, profile_name, county_id)
SELECT m + interval '33 days', to_char(m, 'YYYY"年"MM"月结算数据.csv"'), md5(%(county)s || 's' || m::text)
       || md5(m::text), 12000000, '', 'done', 0, '[]', 0, 0, 0, 0, 0, '[]', '', m + interval '33 days', 60,
       %(runner)s, %(runner)s, 0, '[]', 1, '{}', '{}', '', %(county)s
FROM generate_series(date_trunc('month', %(first_day)s::timestamptz), %(today)s::timestamptz, interval '1 month') m;
INSERT INTO recipients_rosterimport (created_at, file_name, file_hash, file_size, content, source, snapshot_date,
    status, total_rows, processed_rows, errors, error_count, rows_added, rows_changed, rows_ended, rows_unchanged,
    persons_added, message, applied_at, applied_by_id, created_by_id, duration_seconds, error_kinds, attempts,
    sample, profile_mapping, profile_name, county_id)
SELECT m + interval '3 days', to_char(m, 'YYYY"年"MM"月民政救助对象名册.csv"'), md5(%(county)s || 'r' || m::text)
       || md5(m::text), 9000000, '', 'MZ', m::date, 'done', %(people)s, %(people)s, '[]', 0, 200, 300, 150,
       greatest(%(people)s - 650, 0), 200, '', m + interval '3 days', %(runner)s, %(runner)s, 5, '[]', 1, '{}', '{}', '',
       %(county)s
FROM generate_series(date_trunc('month', %(first_day)s::timestamptz), %(today)s::timestamptz, interval '1 month') m;
"""

# Over the year to yesterday: 30% stays, 10% chronic visits, the rest visits; 8% in another region's hospitals;
# one-stop assistance on 70% of the local settlements of registered people.
SETTLEMENTS = """
INSERT INTO settlements_settlement (number, id_number, name, hospital, visit_type, admitted_on, discharged_on,
    visit_on, service_date, settled_on, total, in_policy, basic, critical, other, onestop, out_of_area, diagnosis,
    major_disease, last_import_id)
SELECT number, id_number, name, hospital, visit_type,
       CASE WHEN inpatient THEN service_date - (1 + floor(random() * 14))::int END,
       CASE WHEN inpatient THEN service_date END,
       CASE WHEN NOT inpatient THEN service_date END,
       service_date, settled_on, total, in_policy, basic, critical, 0,
       CASE WHEN assisted THEN round((in_policy - basic - critical) * 0.7, 2) ELSE 0 END,
       remote, diagnosis, diagnosis IN ('C34.9', 'N18.5'), last_import_id
FROM (
  SELECT *, round((total * (0.75 + random() * 0.2))::numeric, 2) AS in_policy_raw FROM (
    SELECT g.*, 'JS' || %(region)s || lpad(g.i::text, 9, '0') AS number,
           coalesce(p.id_number, o.id_number) AS id_number, coalesce(p.name, '外来就医') AS name,
           CASE WHEN g.remote THEN (%(remote_hospitals)s::text[])[1 + floor(g.rh * cardinality(%(remote_hospitals)s::text[]))::int]
                ELSE (%(hospitals)s::text[])[1 + floor(power(g.rh, 1.6) * cardinality(%(hospitals)s::text[]))::int] END AS hospital,
           CASE WHEN g.rv < 0.3 THEN '住院' WHEN g.rv < 0.4 THEN '门诊慢特病' ELSE '门诊' END AS visit_type,
           g.rv < 0.3 AS inpatient,
           CASE WHEN g.rv < 0.3 THEN round((2000 + power(random(), 2) * 40000)::numeric, 2)
                WHEN g.rv < 0.4 THEN round((200 + random() * 2800)::numeric, 2)
                ELSE round((30 + random() * 570)::numeric, 2) END AS total,
           g.service_date + floor(random() * 3)::int AS settled_on,
           (%(diagnoses)s::text[])[1 + floor(random() * cardinality(%(diagnoses)s::text[]))::int] AS diagnosis,
           p.id IS NOT NULL AND NOT g.remote AND random() < 0.7 AS assisted,
           si.id AS last_import_id
    FROM (
      SELECT i, CASE WHEN random() < 0.92 THEN 1 + floor(random() * %(people)s)::int END AS pn,
             1 + floor(random() * %(outsiders)s)::int AS onum, random() < 0.08 AS remote, random() AS rh,
             random() AS rv, %(today)s::date - 1 - floor(random() * 365)::int AS service_date
      FROM generate_series(1, %(settlements)s) i
    ) g
    LEFT JOIN gen_pick p ON p.n = g.pn
    LEFT JOIN gen_outsider o ON g.pn IS NULL AND o.n = g.onum
    LEFT JOIN settlements_settlementimport si ON si.county_id = %(county)s
         AND si.file_name = to_char(g.service_date, 'YYYY"年"MM"月结算数据.csv"')
  ) a
) b
CROSS JOIN LATERAL (
  SELECT LEAST(b.in_policy_raw, b.total) AS in_policy,
         round((LEAST(b.in_policy_raw, b.total) * CASE WHEN b.inpatient THEN 0.55 + random() * 0.15 ELSE 0.5 END)::numeric, 2)
           AS basic
) m
CROSS JOIN LATERAL (
  SELECT CASE WHEN b.inpatient AND m.in_policy > 20000 THEN round((m.in_policy - m.basic) * 0.3, 2) ELSE 0 END
           AS critical
) c
ORDER BY service_date, number
"""

# Cases over the year: those of the last 30 days still in the workflow, the older ones mostly decided and paid.
# Secondary cases (二次救助) each of a different person, in the year they were created.
CASES = """
INSERT INTO applications_case (number, source, status, accepted_on, due_on, decided_at, missing_materials,
    materials_deadline, commitment_signed, agent_name, agent_id_number, agent_relation, payee_name, payee_bank,
    payee_account, proposed_amount, approved_amount, calculation, decision_reason, revision, created_at,
    updated_at, decided_by_id, person_id, received_by_id, reviewed_by_id, township_id, identity_pending,
    review_flag, year, materials_supplied)
SELECT CASE source WHEN 'secondary' THEN 'EC' WHEN 'lead' THEN 'LX' ELSE 'SQ' END
         || to_char(created_at, 'YYYY') || %(region)s || lpad(i::text, 7, '0'),
       source, status, accepted_on,
       CASE WHEN accepted_on IS NOT NULL AND source <> 'secondary' THEN accepted_on + 28 END,
       CASE WHEN status IN ('approved', 'paid', 'rejected')
            THEN LEAST(created_at + (3 + floor(random() * 20)) * interval '1 day', %(now)s::timestamptz) END,
       CASE WHEN status = 'accepted_pending' THEN '["住院病历"]'::jsonb ELSE '[]'::jsonb END,
       CASE WHEN status = 'accepted_pending' THEN accepted_on + 15 END,
       status <> 'draft', '', '', '', name, bank_name, bank_account,
       CASE WHEN status IN ('approval', 'approved', 'paid') THEN amount END,
       CASE WHEN status IN ('approved', 'paid') THEN amount END,
       '[]', '', 0, created_at, created_at,
       CASE WHEN status IN ('approved', 'paid', 'rejected') THEN %(approver)s END,
       person_id,
       CASE WHEN source = 'secondary' THEN NULL ELSE %(clerk)s END,
       CASE WHEN status IN ('approval', 'approved', 'paid', 'rejected') THEN %(reviewer)s END,
       township_id, false, '',
       CASE WHEN source = 'secondary' THEN extract(year FROM created_at)::int END,
       '[]'
FROM (
  SELECT g.i, g.source, g.created_at, p.id AS person_id, p.township_id, p.name, p.bank_name, p.bank_account,
         round((200 + power(random(), 2) * 6000)::numeric, 2) AS amount,
         CASE WHEN g.status = 'draft' THEN NULL ELSE g.created_at::date + floor(random() * 2)::int END AS accepted_on,
         g.status
  FROM (
    SELECT i, source, created_at,
           CASE WHEN source = 'secondary' THEN
                  CASE WHEN age < 30 THEN (ARRAY['approval', 'approval', 'approval', 'approved', 'withdrawn'])[1 + floor(r * 5)::int]
                       ELSE (ARRAY['paid', 'paid', 'paid', 'paid', 'paid', 'paid', 'approved', 'withdrawn'])[1 + floor(r * 8)::int] END
                WHEN age < 30 THEN (ARRAY['draft', 'accepted', 'accepted', 'accepted_pending', 'review', 'review',
                                          'review', 'approval', 'approval', 'approval', 'returned', 'approved',
                                          'rejected'])[1 + floor(r * 13)::int]
                ELSE (ARRAY['paid', 'paid', 'paid', 'paid', 'paid', 'paid', 'paid', 'paid', 'paid', 'paid',
                            'paid', 'paid', 'paid', 'paid', 'approved', 'rejected', 'rejected', 'withdrawn',
                            'returned', 'draft'])[1 + floor(r * 20)::int] END AS status,
           pn
    FROM (
      SELECT i, age, random() AS r, %(now)s::timestamptz - (age + random()) * interval '1 day' AS created_at,
             CASE WHEN i %% 100 < 15 THEN 'secondary' WHEN i %% 100 < 40 THEN 'lead' ELSE 'window' END AS source,
             CASE WHEN i %% 100 < 15 THEN 1 + (i::bigint * 7919) %% %(people)s
                  ELSE 1 + floor(random() * %(people)s)::int END AS pn
      FROM (SELECT i, floor(random() * 365)::int AS age FROM generate_series(1, %(cases)s) i) a
    ) s
  ) g
  JOIN gen_pick p ON p.n = g.pn
) c
ORDER BY created_at
"""

# One bill a case; an approved or paid case has claimed its bill.
BILLS = """
INSERT INTO applications_bill (hospital, visit_type, admitted_on, discharged_on, visit_on, invoice_number,
    settlement_number, total, in_policy, basic, critical, other, donation, diagnosis, major_disease, claimed,
    case_id, invoice_key, granted)
SELECT h, '住院', d - 7, d, NULL, 'FP' || c.id, '', amount * 4, amount * 3, amount * 1.5, 0, 0, 0, 'J18.9', false,
       c.status IN ('approved', 'paid'), c.id, h || '|FP' || c.id, c.approved_amount
FROM (SELECT c.*, coalesce(c.proposed_amount, 800) AS amount,
             coalesce(c.accepted_on, c.created_at::date) - 10 AS d,
             (%(hospitals)s::text[])[1 + (c.id %% cardinality(%(hospitals)s::text[]))::int] AS h
      FROM applications_case c JOIN gen_town t ON t.township_id = c.township_id
      WHERE c.source <> 'secondary') c
"""

# Leads of the year: a converted one for each lead case of the year, open and closed ones for other people;
# each holds up to five of its person's unassisted settlements of the year.
LEADS = """
INSERT INTO applications_lead (number, year, status, category, settlement_count, self_pay_total, estimate, outcome,
    close_reason, close_note, created_at, updated_at, closed_at, case_id, last_job_id, person_id, township_id)
SELECT DISTINCT ON (c.person_id) 'XS' || %(year)s || lpad(c.person_id::text, 8, '0'), %(year)s, 'converted', 'DB', 0,
       0, 0, 'agreed', '', '', c.created_at - interval '5 days', c.created_at, NULL, c.id, NULL, c.person_id,
       c.township_id
FROM applications_case c JOIN gen_town t ON t.township_id = c.township_id
WHERE c.source = 'lead' AND c.created_at >= make_date(%(year)s, 1, 1)
ORDER BY c.person_id, c.id;
INSERT INTO applications_lead (number, year, status, category, settlement_count, self_pay_total, estimate, outcome,
    close_reason, close_note, created_at, updated_at, closed_at, case_id, last_job_id, person_id, township_id)
SELECT 'XS' || %(year)s || lpad(p.id::text, 8, '0'), %(year)s, g.status, 'DB', 0, 0, 0,
       CASE g.status WHEN 'closed' THEN 'refused' WHEN 'open' THEN
            (ARRAY['', '', '', 'contacted', 'unreachable'])[1 + floor(random() * 5)::int] ELSE '' END,
       CASE WHEN g.status = 'closed' THEN (ARRAY['refused', 'unreachable', 'moved', 'resolved'])[1 + floor(random() * 4)::int]
            ELSE '' END,
       '', g.created, g.created, CASE WHEN g.status = 'closed' THEN g.created + interval '20 days' END, NULL, NULL,
       p.id, p.township_id
FROM (SELECT n, CASE WHEN random() < 0.7 THEN 'open' ELSE 'closed' END AS status,
             greatest(make_date(%(year)s, 1, 1)::timestamptz, %(now)s::timestamptz - random() * 330 * interval '1 day') AS created
      FROM gen_pick WHERE (n::bigint * 16807) %% 1000 < %(lead_per_mille)s) g
JOIN gen_pick p ON p.n = g.n
WHERE NOT EXISTS (SELECT 1 FROM applications_lead l WHERE l.person_id = p.id AND l.year = %(year)s);
INSERT INTO applications_leadsettlement (settlement_number, service_date, self_pay, estimate, category, active,
    handled, added_at, lead_id)
SELECT number, service_date, self_pay, round(self_pay * 0.7, 2), 'DB', status = 'open', status <> 'open',
       created_at, lead_id
FROM (
  SELECT s.number, s.service_date, s.in_policy - s.basic - s.critical - s.other AS self_pay, l.status,
         l.created_at, l.id AS lead_id,
         row_number() OVER (PARTITION BY l.id ORDER BY s.service_date, s.number) AS k
  FROM applications_lead l
  JOIN gen_pick p ON p.id = l.person_id
  JOIN settlements_settlement s ON s.id_number = p.id_number AND s.onestop = 0
       AND s.service_date >= make_date(%(year)s, 1, 1) AND s.service_date < make_date(%(year)s + 1, 1, 1)
  WHERE l.year = %(year)s AND s.in_policy - s.basic - s.critical - s.other > 0
) x WHERE k <= 5;
UPDATE applications_lead l SET settlement_count = x.n, self_pay_total = x.self_pay, estimate = x.estimate
FROM (SELECT i.lead_id, count(*) AS n, sum(i.self_pay) AS self_pay, sum(i.estimate) AS estimate
      FROM applications_leadsettlement i JOIN applications_lead l ON l.id = i.lead_id
      JOIN gen_town t ON t.township_id = l.township_id GROUP BY i.lead_id) x
WHERE x.lead_id = l.id;
INSERT INTO applications_leadcontact (contacted_on, method, outcome, note, recorded_at, lead_id, recorded_by_id)
SELECT (l.created_at + interval '3 days')::date, 'phone',
       CASE l.status WHEN 'converted' THEN 'agreed' WHEN 'closed' THEN 'refused' ELSE l.outcome END, '',
       l.created_at + interval '3 days', l.id, %(clerk)s
FROM applications_lead l JOIN gen_town t ON t.township_id = l.township_id
WHERE l.year = %(year)s AND (l.status <> 'open' OR l.outcome <> '');
"""

# The yearly burden of everybody with settlements in the year, against a threshold of 5,000 yuan.
BURDENS = """
INSERT INTO applications_yearlyburden (year, burden, items, pending, category, threshold, due, granted,
    computed_at, person_id, township_id)
SELECT %(year)s, burden, n, 0, 'DB', 5000, greatest(burden - 5000, 0) * 0.5, 0, %(now)s, id, township_id
FROM (SELECT p.id, p.township_id, count(*) AS n,
             sum(s.total - s.basic - s.critical - s.other - s.onestop) AS burden
      FROM settlements_settlement s JOIN gen_pick p ON p.id_number = s.id_number
      WHERE s.service_date >= make_date(%(year)s, 1, 1) AND s.service_date < make_date(%(year)s + 1, 1, 1)
      GROUP BY p.id, p.township_id) b
"""

# Paid cases in closed batches, two a month; approved cases not yet paid in a draft batch of the month.
PAYOUTS = """
DROP TABLE IF EXISTS gen_batch_case;
CREATE TEMP TABLE gen_batch_case AS
  SELECT c.id AS case_id, c.township_id, c.source, c.payee_name, c.payee_account, c.payee_bank, p.id_number,
         c.approved_amount, c.status,
         CASE WHEN c.status = 'paid'
              THEN to_char(c.decided_at, 'YYYYMM') || CASE WHEN extract(day FROM c.decided_at) <= 15 THEN '1' ELSE '2' END
              ELSE to_char(%(now)s::timestamptz, 'YYYYMM') || '9' END AS period,
         c.decided_at
  FROM applications_case c JOIN gen_pick p ON p.id = c.person_id
  WHERE c.status = 'paid' OR (c.status = 'approved' AND c.payee_account <> '' AND random() < 0.5);
INSERT INTO payouts_payoutbatch (number, status, purpose, filters, line_count, total, created_at, locked_at,
    reviewed_at, exported_at, export_count, content_hash, returned_at, closed_at, note, created_by_id,
    locked_by_id, reviewed_by_id, county_id)
SELECT 'ZF' || %(region)s || period, CASE WHEN draft THEN 'draft' ELSE 'closed' END, '医疗救助金', '{}', n, total,
       at, CASE WHEN NOT draft THEN at END, CASE WHEN NOT draft THEN at END, CASE WHEN NOT draft THEN at END,
       CASE WHEN draft THEN 0 ELSE 1 END, '', CASE WHEN NOT draft THEN at END, CASE WHEN NOT draft THEN at END, '',
       %(finance)s, CASE WHEN NOT draft THEN %(finance)s END, CASE WHEN NOT draft THEN %(finance2)s END, %(county)s
FROM (SELECT period, right(period, 1) = '9' AS draft, count(*) AS n, sum(approved_amount) AS total,
             coalesce(max(decided_at), %(now)s::timestamptz) AS at
      FROM gen_batch_case GROUP BY period) b;
INSERT INTO payouts_payoutline (reference, source, payee_name, payee_account, payee_bank, id_number, amount, status,
    live, failure_reason, resolved_at, batch_id, case_id, township_id)
SELECT 'YW' || %(region)s || g.period || lpad(g.case_id::text, 9, '0'), g.source, g.payee_name,
       g.payee_account, g.payee_bank, g.id_number, g.approved_amount,
       CASE WHEN g.status = 'paid' THEN 'paid' ELSE 'pending' END, true, '',
       CASE WHEN g.status = 'paid' THEN b.closed_at END, b.id, g.case_id, g.township_id
FROM gen_batch_case g JOIN payouts_payoutbatch b ON b.number = 'ZF' || %(region)s || g.period
WHERE g.approved_amount > 0;
"""

JOBS = """
INSERT INTO applications_job (kind, status, year, reason, requested_at, started_at, finished_at, phase,
    rows_examined, candidates, people, processed, created, updated, closed, reopened, total_amount, message,
    requested_by_id, people_ids, attempts, heartbeat_at, chunks_done, chunks_failed, chunks_total, county_id, options)
SELECT kind, 'done', %(year)s, '定时任务', at, at, at + interval '3 minutes', '', %(settlements)s / 12, 4000,
       %(people)s / 2, %(people)s / 2, 20, 300, 10, 0, 150000, '', NULL, NULL, 1, at + interval '3 minutes', 10,
       0, 10, %(county)s, '{}'
FROM generate_series(%(now)s::timestamptz - interval '365 days', %(now)s::timestamptz, interval '1 day') d,
     LATERAL (VALUES ('crosscheck', d + interval '2 hours'), ('secondary', d + interval '3 hours')) v(kind, at)
"""

# A year of the county's audit trail: logins, full views of personal data, the workflow's steps.
AUDIT = """
INSERT INTO audit_auditevent (created_at, actor_name, action, object_type, object_id, object_repr, before, after,
    comment, ip_address, actor_id, county_id)
SELECT at, u.username, a.action, a.object_type, CASE WHEN a.object_type = '' THEN '' ELSE g.object_id::text END,
       CASE WHEN a.object_type = '' THEN '' ELSE '案件 ' || g.object_id END, NULL,
       CASE WHEN a.object_type = '' THEN NULL ELSE '{"status": "review"}'::jsonb END, '', '10.20.30.40', u.id,
       %(county)s
FROM (SELECT i, %(now)s::timestamptz - random() * 365 * interval '1 day' AS at,
             1 + floor(random() * 8)::int AS ai, 1 + floor(random() * cardinality(%(users)s::bigint[]))::int AS ui,
             floor(random() * 1000000)::int AS object_id
      FROM generate_series(1, %(audit)s) i) g
JOIN (SELECT * FROM unnest(ARRAY['auth.login', 'auth.login', 'recipient.pii_view', 'case.create', 'case.add_bill',
                                 'case.submit', 'case.review', 'case.approve'],
                           ARRAY['', '', 'recipients.person', 'applications.case', 'applications.case',
                                 'applications.case', 'applications.case', 'applications.case'])
            WITH ORDINALITY AS t(action, object_type, k)) a ON a.k = g.ai
JOIN accounts_user u ON u.id = (%(users)s::bigint[])[g.ui]
ORDER BY at
"""
