-- Dòng có CRLF, dấu \ và chuỗi )lt_sql" giữa chừng.
CREATE TABLE embed.c (note text DEFAULT E'Hồ Chí Minh\\n)lt_sql"');
