-- Loaded once at image build time (mysqld --bootstrap, no network). Bootstrap mode starts
-- without grant tables; FLUSH PRIVILEGES loads them so CREATE USER/GRANT work.
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS testbed;
CREATE TABLE IF NOT EXISTS testbed.greeting (
  id INT PRIMARY KEY,
  message VARCHAR(200) NOT NULL
);
REPLACE INTO testbed.greeting VALUES (1, 'hello from the testbed target');
-- The web page's account; '%' so it is also reachable from the lab network (the study's
-- targets expose MySQL on 3306).
CREATE USER IF NOT EXISTS 'web'@'%' IDENTIFIED BY 'testbed-web';
CREATE USER IF NOT EXISTS 'web'@'localhost' IDENTIFIED BY 'testbed-web';
GRANT SELECT ON testbed.* TO 'web'@'%';
GRANT SELECT ON testbed.* TO 'web'@'localhost';
FLUSH PRIVILEGES;
