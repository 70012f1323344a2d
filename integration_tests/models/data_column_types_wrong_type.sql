-- data_column_types with one wrongly typed column: as_of_date a timestamp, not a date.
select * replace (cast(as_of_date as timestamp) as as_of_date)  -- noqa: AM04
from {{ ref('data_column_types') }}
