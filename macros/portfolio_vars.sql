{#-
  The run-time vars, validated once and returned as plain values:

    as_of           YYYY-MM-DD (a string, or a date that YAML already parsed) or null
    start_date      YYYY-MM-DD or null: the first date of a range (inclusive)
    end_date        YYYY-MM-DD or null: the last date of a range (inclusive)
    rebuild         true or false: re-encode every selected state, changed or not
    model_id        a card id (the encoder registry checks that it is known)
    joint_model_id  a joint card id (likewise)
    limit           positive integer (at most 2^63 - 1) or null
    portfolio_ids   non-empty list of non-empty strings, one comma-separated string, or
                    null

  null (the default) means "every"; an empty value ('' or []) is an error, never a
  silent "every".

  The defaults are the vars of dbt_project.yml, their one home.

  Malformed values raise a compiler error that names the var and the expected form, so
  `dbt run` stops before any model is built (this macro runs in on-run-start).
-#}
{% macro portfolio_vars() %}
  {%- set as_of = _portfolio_date_var('as_of') -%}
  {%- set start_date = _portfolio_date_var('start_date') -%}
  {%- set end_date = _portfolio_date_var('end_date') -%}
  {%- set rebuild = var('rebuild') -%}
  {%- set model_id = var('model_id') -%}
  {%- set joint_model_id = var('joint_model_id') -%}
  {%- set limit = var('limit') -%}
  {%- set portfolio_ids = var('portfolio_ids') -%}

  {%- if as_of is not none and (start_date is not none or end_date is not none) -%}
    {{ _portfolio_var_error('as_of', 'either as_of or a start_date / end_date range, not both', as_of) }}
  {%- endif -%}
  {%- if start_date is not none and end_date is not none and start_date > end_date -%}
    {{ _portfolio_var_error('end_date', 'a date on or after start_date ' ~ start_date, end_date) }}
  {%- endif -%}
  {%- if rebuild is not sameas true and rebuild is not sameas false -%}
    {{ _portfolio_var_error('rebuild', 'true or false', rebuild) }}
  {%- endif -%}

  {%- for name, value, example in [('model_id', model_id, 'num-portfolio-core-v1'),
                                     ('joint_model_id', joint_model_id, 'joint-portfolio-core-v1')] -%}
    {%- if value is not string or not modules.re.fullmatch('[A-Za-z0-9][A-Za-z0-9._-]{0,63}', value) -%}
      {{ _portfolio_var_error(name, 'a model id of at most 64 letters, digits, ".", "_" or "-", e.g. ' ~ example, value) }}
    {%- endif -%}
  {%- endfor -%}

  {%- if limit is not none -%}
    {%- set limit_text = limit | string -%}
    {#- the SQL LIMIT is a BIGINT: a larger number is not a limit -#}
    {%- if limit is sameas true or limit is sameas false or not modules.re.fullmatch('[0-9]{1,19}', limit_text)
          or (limit_text | int) < 1 or (limit_text | int) > 9223372036854775807 -%}
      {{ _portfolio_var_error('limit', 'a positive integer of at most 9223372036854775807, e.g. 100 (leave it out for every portfolio)', limit) }}
    {%- endif -%}
    {%- set limit = limit_text | int -%}
  {%- endif -%}

  {%- if portfolio_ids is not none -%}
    {%- if portfolio_ids is string -%}
      {%- set portfolio_ids = portfolio_ids.split(',') | map('trim') | list -%}
    {%- endif -%}
    {%- if portfolio_ids is mapping or portfolio_ids is not iterable or portfolio_ids | length == 0 -%}
      {{ _portfolio_var_error('portfolio_ids', 'a non-empty list of portfolio ids, e.g. [P00001, P00002], or "P00001,P00002" (leave it out for every portfolio)', portfolio_ids) }}
    {%- endif -%}
    {%- for pid in portfolio_ids -%}
      {%- if pid is not string or pid | trim == '' or pid | length > 64 -%}
        {{ _portfolio_var_error('portfolio_ids', 'a list of non-empty portfolio id strings of at most 64 characters', portfolio_ids) }}
      {%- endif -%}
    {%- endfor -%}
    {%- set portfolio_ids = portfolio_ids | list -%}
  {%- endif -%}

  {{ return({'as_of': as_of, 'start_date': start_date, 'end_date': end_date,
              'rebuild': rebuild, 'model_id': model_id, 'joint_model_id': joint_model_id,
              'limit': limit, 'portfolio_ids': portfolio_ids}) }}
{% endmacro %}


{#- A date var as YYYY-MM-DD text (YAML may have parsed it into a date), or none. -#}
{% macro _portfolio_date_var(name) %}
  {%- set value = var(name) -%}
  {%- if value is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set text = value | string -%}
  {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
    {{ _portfolio_var_error(name, 'a date YYYY-MM-DD, e.g. 2025-01-31 (leave it out for every date)', value) }}
  {%- endif -%}
  {%- if not _is_calendar_date(text) -%}
    {{ _portfolio_var_error(name, 'a real calendar date YYYY-MM-DD, e.g. 2025-01-31', value) }}
  {%- endif -%}
  {{ return(text) }}
{% endmacro %}


{#- The rows the run's dates and portfolio_ids select, as a predicate on a relation
    with as_of_date and a portfolio id (column or expression `portfolio_id`); limit
    needs the winners: int_portfolio_states. -#}
{% macro portfolio_selection(run_vars, portfolio_id='portfolio_id') %}
  {%- set predicates = [] -%}
  {%- if run_vars.as_of is not none -%}
    {%- do predicates.append("as_of_date = cast('" ~ run_vars.as_of ~ "' as date)") -%}
  {%- endif -%}
  {%- if run_vars.start_date is not none -%}
    {%- do predicates.append("as_of_date >= cast('" ~ run_vars.start_date ~ "' as date)") -%}
  {%- endif -%}
  {%- if run_vars.end_date is not none -%}
    {%- do predicates.append("as_of_date <= cast('" ~ run_vars.end_date ~ "' as date)") -%}
  {%- endif -%}
  {%- if run_vars.portfolio_ids is not none -%}
    {%- set literals = [] -%}
    {%- for pid in run_vars.portfolio_ids -%}
      {%- do literals.append(sql_text_literal(pid)) -%}
    {%- endfor -%}
    {%- do predicates.append("(" ~ portfolio_id ~ ") in (" ~ literals | join(', ') ~ ")") -%}
  {%- endif -%}
  {{- predicates | join(' and ') if predicates else 'true' -}}
{% endmacro %}


{% macro _is_calendar_date(text) %}
  {%- set ns = namespace(ok=true) -%}
  {%- set parts = text.split('-') | map('int') | list -%}
  {%- if parts[1] < 1 or parts[1] > 12 or parts[2] < 1 -%}
    {%- set ns.ok = false -%}
  {%- else -%}
    {%- set days = [31, 29 if (parts[0] % 4 == 0 and (parts[0] % 100 != 0 or parts[0] % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- set ns.ok = parts[2] <= days[parts[1] - 1] -%}
  {%- endif -%}
  {{ return(ns.ok) }}
{% endmacro %}


{% macro _portfolio_var_error(name, expected, got) %}
  {{ exceptions.raise_compiler_error("Invalid var '" ~ name ~ "': expected " ~ expected ~ "; got " ~ (got | tojson if got is not string else "'" ~ got ~ "'") ~ ".") }}
{% endmacro %}


{#- on-run-start hook: validate before anything runs; renders no SQL. -#}
{% macro validate_portfolio_vars() %}
  {%- do portfolio_vars() -%}
  select 1
{% endmacro %}


{#- A SQL string literal for any text: quotes doubled, and a NUL (which cannot stand
    inside a literal) spliced in as chr(0), so no value changes the statement. -#}
{% macro sql_text_literal(text) %}
  {%- set pieces = [] -%}
  {%- for piece in (text | string).split('\x00') -%}
    {%- do pieces.append("'" ~ piece | replace("'", "''") ~ "'") -%}
  {%- endfor -%}
  {{- return(pieces | join(' || chr(0) || ') if pieces | length > 1 else pieces[0]) -}}
{% endmacro %}
