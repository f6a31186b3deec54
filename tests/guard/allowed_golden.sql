## Allowed statements and the SQL the guard runs for them (policy tests/guard/policy.yaml, max_rows 50,
## messenger schema, SQLite dialect). Each entry: the input, then a line '=> expected'.

SELECT username FROM users
=> SELECT username FROM users LIMIT 50

SELECT username FROM users LIMIT 10
=> SELECT username FROM users LIMIT 10

SELECT username FROM users LIMIT 1000
=> SELECT username FROM users LIMIT 50

SELECT username FROM users LIMIT 20 OFFSET 5
=> SELECT username FROM users LIMIT 20 OFFSET 5

select count(*) from users where strftime('%Y', created_at) = '2023';
=> SELECT COUNT(*) FROM users WHERE STRFTIME('%Y', created_at) = '2023' LIMIT 50

SELECT room_id FROM chat_rooms UNION SELECT room_id FROM messages
=> SELECT room_id FROM chat_rooms UNION SELECT room_id FROM messages LIMIT 50

WITH c AS (SELECT sender_id, count(*) AS n FROM messages GROUP BY sender_id) SELECT u.username, c.n FROM users u JOIN c ON c.sender_id = u.user_id ORDER BY c.n DESC
=> WITH c AS (SELECT sender_id, COUNT(*) AS n FROM messages GROUP BY sender_id) SELECT u.username, c.n FROM users AS u JOIN c ON c.sender_id = u.user_id ORDER BY c.n DESC LIMIT 50

SELECT * FROM chat_rooms
=> SELECT * FROM chat_rooms LIMIT 50

SELECT count(*) FROM users
=> SELECT COUNT(*) FROM users LIMIT 50

SELECT username, (SELECT count(*) FROM messages m WHERE m.sender_id = u.user_id) AS sent FROM users u
=> SELECT username, (SELECT COUNT(*) FROM messages AS m WHERE m.sender_id = u.user_id) AS sent FROM users AS u LIMIT 50

WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r
=> WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r LIMIT 50

SELECT title, rank() OVER (ORDER BY created_at) FROM chat_rooms
=> SELECT title, RANK() OVER (ORDER BY created_at) FROM chat_rooms LIMIT 50

SELECT ifnull(status_message, '-'), length(username) FROM users WHERE username LIKE '김%'
=> SELECT COALESCE(status_message, '-'), LENGTH(username) FROM users WHERE username LIKE '김%' LIMIT 50

SELECT U.username FROM users u WHERE U.user_id = 3
=> SELECT U.username FROM users AS u WHERE U.user_id = 3 LIMIT 50

SELECT m.content FROM messages AS m WHERE EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = m.sender_id AND U.username = 'a')
=> SELECT m.content FROM messages AS m WHERE EXISTS(SELECT 1 FROM users AS u WHERE u.user_id = m.sender_id AND U.username = 'a') LIMIT 50

SELECT a.username FROM users a JOIN users b USING (user_id)
=> SELECT a.username FROM users AS a JOIN users AS b USING (user_id) LIMIT 50

SELECT j.value FROM chat_rooms AS c, json_each(c.title) AS j
=> SELECT j.value FROM chat_rooms AS c CROSS JOIN JSON_EACH(c.title) AS j LIMIT 50
