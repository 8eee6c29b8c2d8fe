-- Ground truth for "the read model went backwards" (E-011): every UPDATE of product_view that lowers its version,
-- recorded by the database itself, whatever the consumer believes it did. The audit reads it; nothing else writes it.
CREATE TABLE IF NOT EXISTS product_view_regression (
  id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id   BIGINT       NOT NULL,
  from_version INT          NOT NULL,
  to_version   INT          NOT NULL,
  at           TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY ix_regression_product (product_id)
) ENGINE=InnoDB;

CREATE TRIGGER IF NOT EXISTS product_view_went_backwards AFTER UPDATE ON product_view FOR EACH ROW
  INSERT INTO product_view_regression (product_id, from_version, to_version)
  SELECT NEW.product_id, OLD.version, NEW.version FROM DUAL WHERE NEW.version < OLD.version;
