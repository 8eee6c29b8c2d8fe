-- The domain table written by command-service. `last_event_id` ties the row to the event its latest change emitted.
CREATE TABLE IF NOT EXISTS product (
  id            BIGINT        NOT NULL PRIMARY KEY,
  name          VARCHAR(200)  NOT NULL,
  price         DECIMAL(12,2) NOT NULL,
  stock         INT           NOT NULL,
  version       INT           NOT NULL,
  last_event_id CHAR(36)      NULL,
  updated_at    TIMESTAMP(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;

-- Transactional outbox: written in the same transaction as `product`, published by outbox-relay.
-- `topic` lets relays for different topics (e.g. concurrent tests) share the table without stealing rows.
CREATE TABLE IF NOT EXISTS outbox (
  id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id       CHAR(36)     NOT NULL,
  topic          VARCHAR(200) NOT NULL,
  aggregate_type VARCHAR(64)  NOT NULL,
  aggregate_id   BIGINT       NOT NULL,
  event_type     VARCHAR(64)  NOT NULL,
  payload        JSON         NOT NULL,
  created_at     TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  published_at   TIMESTAMP(3) NULL,
  attempts       INT          NOT NULL DEFAULT 0,
  UNIQUE KEY uq_outbox_event (event_id),
  KEY ix_outbox_unpublished (topic, published_at, id)
) ENGINE=InnoDB;

-- Dedup table of the idempotent consumer: the primary key is the dedup.
CREATE TABLE IF NOT EXISTS processed_event (
  consumer_group VARCHAR(200) NOT NULL,
  event_id       CHAR(36)     NOT NULL,
  processed_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (consumer_group, event_id)
) ENGINE=InnoDB;

-- Read model built by consumer-service from the topic; only a newer version overwrites a row.
CREATE TABLE IF NOT EXISTS product_view (
  product_id BIGINT        NOT NULL PRIMARY KEY,
  name       VARCHAR(200)  NOT NULL,
  price      DECIMAL(12,2) NOT NULL,
  stock      INT           NOT NULL,
  version    INT           NOT NULL,
  updated_at TIMESTAMP(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;

-- One row per side effect performed (e.g. a notification sent). Deliberately no unique key: duplicates are the
-- thing experiments count.
CREATE TABLE IF NOT EXISTS side_effect_ledger (
  id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id       CHAR(36)     NOT NULL,
  consumer_group VARCHAR(200) NOT NULL,
  effect         VARCHAR(64)  NOT NULL,
  created_at     TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY ix_ledger_event (event_id, consumer_group)
) ENGINE=InnoDB;

-- Every command that committed, written in the command's transaction: the audit's ground truth of which events
-- must exist (whatever the mode, and whether or not they ever reached Kafka).
CREATE TABLE IF NOT EXISTS command_log (
  id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id   CHAR(36)     NOT NULL,
  topic      VARCHAR(200) NOT NULL,
  product_id BIGINT       NOT NULL,
  event_type VARCHAR(64)  NOT NULL,
  version    INT          NOT NULL,
  mode       VARCHAR(16)  NOT NULL,
  payload    JSON         NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_command_event (event_id),
  KEY ix_command_product (product_id, version)
) ENGINE=InnoDB;
