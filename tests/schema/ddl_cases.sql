-- Every CREATE TABLE form kosql.data.schema must read (MySQL and PostgreSQL flavours of ko_text2sql).
-- MySQL: AUTO_INCREMENT, inline PRIMARY KEY / UNIQUE / NOT NULL
CREATE TABLE players (player_id INT PRIMARY KEY AUTO_INCREMENT, username VARCHAR(255) UNIQUE NOT NULL, email VARCHAR(255) UNIQUE NOT NULL, password_hash VARCHAR(255) NOT NULL, date_joined DATETIME NOT NULL, last_login DATETIME);

# MySQL: backticks, ENUM, COMMENT, CHECK, DEFAULT CURRENT_TIMESTAMP, table-level keys, UNIQUE KEY, INDEX, table options
CREATE TABLE `orders` (
  `order_id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `player_id` INT NOT NULL,
  `status` ENUM('pending','paid','shipped') NOT NULL DEFAULT 'pending' COMMENT '주문 상태',
  `total` DECIMAL(10,2) CHECK (`total` >= 0),
  `is_gift` TINYINT(1) DEFAULT 0,
  `created_at` TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`order_id`),
  CONSTRAINT fk_orders_player FOREIGN KEY (`player_id`) REFERENCES players(player_id) ON DELETE CASCADE,
  UNIQUE KEY uq_player_created (`player_id`, `created_at`),
  INDEX idx_status (`status`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE INDEX idx_orders_total ON orders (total);

-- PostgreSQL: SERIAL, quoted identifiers, TIMESTAMP WITH TIME ZONE, BOOLEAN DEFAULT FALSE, FKs to tables not in the context
CREATE TABLE IF NOT EXISTS "messages" (
  "message_id" SERIAL PRIMARY KEY,
  "conversation_id" INT NOT NULL,
  "sender_id" INT NOT NULL REFERENCES players(player_id),
  "content" TEXT,
  "timestamp" TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  "read" BOOLEAN DEFAULT FALSE,
  FOREIGN KEY ("conversation_id") REFERENCES conversations("conversation_id")
);

-- PostgreSQL: BIGSERIAL, JSONB, NUMERIC, DOUBLE PRECISION, UUID, TIME, DATE, composite primary key
CREATE TABLE event_log (
  event_id BIGSERIAL,
  player_id INT,
  payload JSONB,
  amount NUMERIC(12, 2),
  ratio DOUBLE PRECISION,
  token UUID,
  at_time TIME,
  on_day DATE,
  PRIMARY KEY (event_id, player_id)
);
