SELECT DISTINCT m.committee, m.meeting_date, i.number, left(i.title, 60) AS title
  FROM current_items i JOIN meetings m ON m.id = i.meeting_id
  JOIN item_sections s ON s.item_id = i.id
 WHERE s.fts @@ plainto_tsquery('danish', 'budget økonomi')
 ORDER BY 2, 3 LIMIT 10;
