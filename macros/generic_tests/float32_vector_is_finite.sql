{#-
  No element of a little-endian float32 vector stored as bytes is NaN or +-Inf.
  A float32 is non-finite when its 8 exponent bits are all ones: in the hex text of the
  bytes (b0 b1 b2 b3 per element) that is b2 >= 0x80 and b3 in (0x7F, 0xFF). The
  pattern walks the hex 8 characters (one element) at a time.
-#}
{% test float32_vector_is_finite(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and {{ portfolio_embeddings.regex_matches(
      'upper(hex(' ~ column_name ~ '))',
      "'^(?:[0-9A-F]{8})*[0-9A-F]{4}[89A-F][0-9A-F][7F]F'"
  ) }}

{% endtest %}
