{#- A Last.fm tag's canonical spelling: NFC, lower case, hyphens/underscores/slashes as spaces, spaces
    collapsed and trimmed (hip-hop, Hip Hop and hip_hop are one tag). -#}
{% macro canonical_tag(spelling) -%}
    trim(regexp_replace(regexp_replace(lower(nfc_normalize({{ spelling }})), '[-_/]+', ' ', 'g'), '\s+', ' ', 'g'))
{%- endmacro %}
