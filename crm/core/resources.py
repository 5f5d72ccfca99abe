"""The base resource every entity's resource extends (the registry of importable entities is
``crm.imports.registry``).

A resource (django-import-export's ``ModelResource``) says which columns an entity has, how each
cell is read and written (its widget) and which fields form the natural key
(``Meta.import_id_fields``). The import engine (``crm.imports.engine``) reads these; the hooks below are the few
things the library has no place for: bulk lookup of existing records, what ``save()`` would have
done before a bulk insert, and checks that span several fields.
"""

from django.core.exceptions import FieldDoesNotExist
from import_export import resources

from .import_widgets import ReferenceWidget
from .text import fold


class CrmResource(resources.ModelResource):
    #: The entity's registry key (also the CLI name), set by each subclass.
    entity = ""
    #: Columns a file must have (field names); defaults to the natural key.
    required_fields = ()
    #: Other spellings people use for a column: {"e-mail": "email"} (normalised header → field).
    column_aliases = {}
    #: What the export queryset needs so rendering a row makes no query.
    export_select_related = ()
    export_prefetch_related = ()

    class Meta:
        abstract = True

    # --- columns -----------------------------------------------------------------------------

    def import_fields(self):
        """(field name, Field) pairs a file may fill: not read-only, on a model field."""
        for name, field in self.fields.items():
            if not field.readonly and field.attribute and "__" not in field.attribute:
                yield name, field

    def model_field(self, field):
        try:
            return self._meta.model._meta.get_field(field.attribute)
        except FieldDoesNotExist:
            return None

    def reference_widgets(self):
        return [f.widget for f in self.fields.values() if isinstance(f.widget, ReferenceWidget)]

    def get_required_fields(self):
        return tuple(self.required_fields or self.get_import_id_fields())

    # --- natural keys ------------------------------------------------------------------------

    def natural_key(self, values):
        """The key matching a row to a record, from cleaned values; None if it cannot match."""
        key = []
        for name in self.get_import_id_fields():
            value = values.get(name)
            if value is None or value == "":
                return None
            key.append(fold(value) if isinstance(value, str) else value)
        return tuple(key)

    def instance_values(self, instance, names=None):
        """The instance's current values in the form ``clean`` gives (pks for references)."""
        values = {}
        for name, field in self.import_fields():
            if names is not None and name not in names:
                continue
            model_field = self.model_field(field)
            if model_field is None or model_field.many_to_many:
                continue
            values[name] = getattr(instance, model_field.attname)
        return values

    def find_existing(self, keys):
        """{natural key: instance} for the keys that exist, in one query.

        The query filters on the first key field, whose cleaned value equals the stored one
        (a date, a pk, a lower-case email); the full key is then compared in Python.
        """
        if not keys:
            return {}
        first = self.fields[self.get_import_id_fields()[0]]
        attname = self.model_field(first).attname
        wanted = {key[0] for key in keys}
        found = {}
        for instance in self._meta.model._default_manager.filter(**{f"{attname}__in": wanted}):
            key = self.natural_key(self.instance_values(instance))
            if key in keys:
                found[key] = instance
        return found

    # --- writing -----------------------------------------------------------------------------

    def prepare_instance(self, instance):
        """What the model's ``save()`` does before writing; bulk inserts skip ``save()``."""

    def validate_instance(self, instance, values, is_new):
        """Checks spanning fields. Raise ``ValidationError`` (a dict keyed by field name)."""

    def after_commit(self, created, updated, user):
        """Called inside the import's transaction once everything is written."""

    def before_rollback(self, created, updated):
        """Called before a rollback deletes/restores; what it returns goes to after_rollback."""
        return None

    def after_rollback(self, context):
        """Called inside the rollback's transaction once everything is undone."""

    def row_label(self, values, instance=None):
        """How the preview names a row."""
        for name in self.get_import_id_fields():
            value = values.get(name)
            if value not in (None, ""):
                return self.fields[name].widget.render(value)
        return str(instance) if instance else ""

    # --- export ------------------------------------------------------------------------------

    def export_queryset(self, queryset):
        """The rows to export, loading only the columns the export writes.

        A list page's own select_related/prefetch_related are replaced by the resource's, which
        match the columns exported; loading fewer columns matters at 100,000 rows.
        """
        queryset = queryset.select_related(None).prefetch_related(None)
        if self.export_select_related:
            queryset = queryset.select_related(*self.export_select_related)
        if self.export_prefetch_related:
            queryset = queryset.prefetch_related(*self.export_prefetch_related)
        columns = self.export_columns()
        return queryset.only(*columns) if columns else queryset

    def export_columns(self):
        """``only()`` paths for the export, or None when a widget cannot say what it reads."""
        columns = []
        for res_field in self.get_export_fields():
            path, widget = res_field.attribute, res_field.widget
            if isinstance(widget, ReferenceWidget):
                if widget.multiple:
                    continue  # many-to-many: prefetched
                if widget.label_fields is None:
                    return None
                columns.extend(f"{path}__{name}" for name in widget.label_fields)
            else:
                columns.append(path)
        return columns

    def queryset_for_list(self, queryset):
        """The rows to export for a list page's queryset (same model unless overridden)."""
        return queryset
