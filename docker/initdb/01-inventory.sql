-- The lab's source table, as in the seed lab and scripts/demo.sh, with its
-- four starting rows. Run once, by
-- postgres-entrypoint.sh, on the first start of an empty data volume.
CREATE EXTENSION IF NOT EXISTS cdc_kafka;

CREATE SCHEMA inventory;

CREATE TABLE inventory.customers (
	id serial PRIMARY KEY,
	first_name varchar(255) NOT NULL,
	last_name varchar(255) NOT NULL,
	email varchar(255) NOT NULL UNIQUE
);

INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES
	(1, 'Sally', 'Thomas', 'sally.thomas@acme.com'),
	(2, 'George', 'Bailey', 'gbailey@foobar.com'),
	(3, 'Edward', 'Walker', 'ed@walker.com'),
	(4, 'Jonh', 'Kretchmar', 'annek@noanswer.org');
ALTER SEQUENCE inventory.customers_id_seq RESTART WITH 5;
