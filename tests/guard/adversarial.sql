## Adversarial statements: every one must be refused by kosql's guard (tests/guard/test_guard.py)
## and, sent straight to the database past the guard, must leave it unchanged and read no denied
## column (tests/ask/test_sqlite.py, tests/ask/test_postgres.py).
## Schema: bundled 'messenger' domain (users, chat_rooms, messages). Policy: tests/guard/policy.yaml
## (denied columns users.phone and users.email). Entries are separated by blank lines.

## -- stacked statements
SELECT 1; DROP TABLE users

SELECT username FROM users; DELETE FROM users

SELECT username FROM users;DELETE FROM messages;

SELECT 1; UPDATE users SET username = 'x'

SELECT 1; INSERT INTO users (username, email, created_at) VALUES ('a', 'b', 'c')

SELECT 1; CREATE TABLE pwn (a INT)

SELECT 1; ALTER TABLE users ADD COLUMN pwn INT

SELECT 1; ATTACH DATABASE '/tmp/kosql-pwn.db' AS pwn

SELECT 1; PRAGMA writable_schema = ON

SELECT 1; VACUUM

SELECT 1 /* harmless */ ; DROP TABLE messages

SELECT ';'; DROP TABLE chat_rooms

SELECT 1; BEGIN; DELETE FROM users; COMMIT

## -- comment and case tricks
SeLeCt 1; dRoP tAbLe users

/* SELECT */ DELETE FROM users

-- SELECT
DELETE FROM users

SELECT 1 --
; DROP TABLE users

DELETE /* SELECT */ FROM users

/*! DELETE FROM users */ SELECT 1; DELETE FROM users

  	DELETE FROM users

(DELETE FROM users)

## -- plain writes and DDL
DELETE FROM users

UPDATE users SET email = 'x@y.z'

INSERT INTO users (username, email, created_at) VALUES ('a', 'b', 'c')

INSERT INTO users SELECT * FROM users

REPLACE INTO users (user_id, username, email, created_at) VALUES (1, 'a', 'b', 'c')

INSERT OR REPLACE INTO users (user_id, username, email, created_at) VALUES (1, 'a', 'b', 'c')

UPSERT INTO users VALUES (1)

MERGE INTO users u USING chat_rooms c ON u.user_id = c.room_id WHEN MATCHED THEN DELETE

DROP TABLE users

DROP TABLE IF EXISTS messages

TRUNCATE TABLE messages

TRUNCATE messages

CREATE TABLE pwn AS SELECT * FROM users

CREATE TEMP TABLE pwn (a INT)

CREATE VIEW v AS SELECT * FROM users

CREATE INDEX pwn_idx ON users (username)

CREATE TRIGGER t AFTER INSERT ON users BEGIN DELETE FROM messages; END

ALTER TABLE users RENAME TO pwned

ALTER TABLE users DROP COLUMN phone

CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql

CREATE EXTENSION dblink

GRANT ALL ON users TO PUBLIC

REVOKE SELECT ON users FROM PUBLIC

## -- writes inside CTEs and subqueries
WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d

WITH u AS (UPDATE users SET username = 'x' RETURNING user_id) SELECT count(*) FROM u

WITH i AS (INSERT INTO chat_rooms (title, room_type, created_at) VALUES ('a', 'b', 'c') RETURNING room_id) SELECT room_id FROM i

WITH a AS (SELECT 1), d AS (DELETE FROM messages RETURNING message_id) SELECT * FROM a, d

SELECT * FROM (WITH d AS (DELETE FROM users RETURNING user_id) SELECT user_id FROM d) AS x

WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r), d AS (DELETE FROM users RETURNING 1) SELECT * FROM d

## -- SELECT ... INTO and locks
SELECT * INTO pwn FROM users

SELECT username INTO TEMP pwn FROM users

SELECT username INTO UNLOGGED pwn FROM users

SELECT username FROM users FOR UPDATE

SELECT username FROM users FOR SHARE

SELECT room_id FROM chat_rooms FOR NO KEY UPDATE

## -- PRAGMA, ATTACH, COPY, SET, EXPLAIN ANALYZE, session and transaction control
PRAGMA query_only = OFF

PRAGMA writable_schema = 1

PRAGMA journal_mode = DELETE

PRAGMA table_info(users)

ATTACH DATABASE '/tmp/kosql-pwn.db' AS pwn

ATTACH 'file:/tmp/kosql-pwn2.db?mode=rwc' AS pwn

DETACH DATABASE main

VACUUM

VACUUM INTO '/tmp/kosql-pwn-vacuum.db'

REINDEX users

ANALYZE users

COPY users TO '/tmp/kosql-users.csv'

COPY users FROM '/tmp/kosql-users.csv'

COPY (SELECT * FROM users) TO PROGRAM 'touch /tmp/kosql-pwn'

COPY users TO STDOUT

SET default_transaction_read_only = off

SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE

SET TRANSACTION READ WRITE

SET statement_timeout = 0

SET ROLE postgres

RESET ALL

BEGIN

COMMIT

ROLLBACK

SAVEPOINT s

START TRANSACTION READ WRITE

EXPLAIN ANALYZE DELETE FROM users

EXPLAIN ANALYZE SELECT * FROM users

EXPLAIN DELETE FROM users

EXPLAIN QUERY PLAN SELECT 1

SHOW ALL

LISTEN ch

NOTIFY ch, 'x'

LOCK TABLE users IN ACCESS EXCLUSIVE MODE

DISCARD ALL

DO $$ BEGIN DELETE FROM users; END $$

CALL p()

PREPARE p AS DELETE FROM users

EXECUTE p

DECLARE c CURSOR FOR SELECT * FROM users

LOAD 'plpgsql'

## -- side-effect and dangerous functions
SELECT set_config('default_transaction_read_only', 'off', false)

SELECT set_config('statement_timeout', '0', false)

SELECT current_setting('data_directory')

SELECT pg_sleep(10)

SELECT username FROM users WHERE pg_sleep(1) IS NULL

SELECT dblink_exec('dbname=postgres', 'DELETE FROM users')

SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)

SELECT lo_import('/etc/passwd')

SELECT lo_export(1, '/tmp/kosql-lo')

SELECT pg_read_file('/etc/passwd')

SELECT pg_ls_dir('.')

SELECT load_extension('/tmp/evil.so')

SELECT pg_advisory_lock(1)

SELECT pg_try_advisory_lock(1)

SELECT pg_notify('ch', 'x')

SELECT pg_terminate_backend(1)

SELECT pg_reload_conf()

SELECT nextval('users_user_id_seq')

SELECT setval('users_user_id_seq', 1)

SELECT txid_current()

SELECT query_to_xml('DELETE FROM users RETURNING *', true, true, '')

SELECT username FROM users WHERE user_id IN (SELECT pg_cancel_backend(1))

SELECT SLEEP(5)

SELECT BENCHMARK(1000000, MD5('a'))

SELECT readfile('/etc/passwd')

SELECT writefile('/tmp/kosql-pwn', 'x')

SELECT fts3_tokenizer('simple')

SELECT UPPER(set_config('a.b', 'c', false))

SELECT (SELECT set_config('default_transaction_read_only', 'off', false)) AS x FROM users

## -- system catalogs
SELECT * FROM sqlite_master

SELECT sql FROM sqlite_schema

SELECT rolname, rolpassword FROM pg_authid

SELECT usename, passwd FROM pg_catalog.pg_shadow

SELECT * FROM information_schema.tables

SELECT * FROM pg_stat_activity

## -- denied columns: directly, through aliases, subqueries, CTEs, functions, WHERE, ORDER BY, '*'
SELECT phone FROM users

SELECT username, email FROM users

SELECT u.phone AS p FROM users AS u

SELECT "phone" FROM users

SELECT PHONE FROM users

SELECT p FROM (SELECT phone AS p FROM users) AS x

WITH c AS (SELECT phone AS p FROM users) SELECT p FROM c

SELECT username FROM users WHERE phone LIKE '010-1234%'

SELECT username FROM users ORDER BY email

SELECT count(*) FROM users GROUP BY email

SELECT username FROM users WHERE user_id IN (SELECT user_id FROM users WHERE email LIKE '%naver%')

SELECT username FROM users u WHERE EXISTS (SELECT 1 FROM messages m WHERE m.sender_id = u.user_id AND u.phone IS NOT NULL)

SELECT upper(email) FROM users

SELECT substr(phone, 1, 3) FROM users

SELECT username FROM users HAVING max(phone) > ''

SELECT CASE WHEN phone IS NULL THEN 0 ELSE 1 END FROM users

SELECT m.content, u.email FROM messages m JOIN users u ON u.user_id = m.sender_id

SELECT * FROM users

SELECT u.* FROM users u

SELECT * FROM messages JOIN users ON users.user_id = messages.sender_id

SELECT x.* FROM (SELECT * FROM users) AS x

WITH c AS (SELECT * FROM users) SELECT * FROM c

SELECT username FROM users UNION SELECT phone FROM users

SELECT users FROM users

SELECT u FROM users u

SELECT row_to_json(u) FROM users u

SELECT to_jsonb(users) FROM users

## -- denied columns through names the database folds (case, quotes), qualifiers that name no table,
## -- USING / NATURAL joins, renamed columns, '*' inside an expression, schema-qualified names
SELECT U.phone FROM users u

SELECT U.PHONE FROM users AS u

SELECT "U".phone FROM users "u"

SELECT x.password_hash FROM users u

SELECT USERS.email FROM users

SELECT U.* FROM users u

SELECT u.username FROM users u ORDER BY "U"."phone"

SELECT m.content FROM messages m JOIN users u ON u.user_id = m.sender_id WHERE U.Email LIKE '%@%'

SELECT username FROM users u WHERE EXISTS (SELECT 1 FROM messages m WHERE m.sender_id = U.user_id AND U.phone LIKE '010%')

SELECT j.value FROM users u, json_each(U.phone) AS j

SELECT a.username FROM users a JOIN users b USING (phone)

SELECT a.username FROM users a NATURAL JOIN (SELECT '010-0000-0000' AS phone) AS b

SELECT d FROM users AS u(a, b, c, d)

SELECT concat(u.*) FROM users u

SELECT (u.*)::text FROM users u

SELECT count(u.*) FROM users u

SELECT main.users.phone FROM main.users

SELECT email FROM public.users

SELECT public.upper(username) FROM users

## -- unknown syntax falls back to Command or fails to parse
SELECT username FROM users WHERE

GIBBERISH users

VALUES (1)
