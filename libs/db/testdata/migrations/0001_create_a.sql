-- Bảng thử nghiệm (a test table).
CREATE TABLE embed.a (id int);
