"""MICrONS cortical-column fields: loading (with the reference notebook's defects fixed) and a synthetic stand-in."""
