SELECT municipality, meeting_date, item_number, left(item_title, 50) AS item,
       attachment_name, text_source, left(regexp_replace(snippet, '\s+', ' ', 'g'), 80) AS snippet
  FROM item_attachment_search(:'words')
 LIMIT 10;
