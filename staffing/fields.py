"""Model fields for ID numbers at rest (staffing/idcrypto.py).

Both derive from ``models.Field`` rather than CharField/TextField on purpose: ``core.records`` copies plain
text columns straight from the instance into COPY, and these must go through their own preparation.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from . import idcrypto, idnumbers


class EncryptedIdNumberField(models.Field):
    """Holds the clear number in Python and Fernet ciphertext in the database.

    The ciphertext differs at every save, so the column cannot be compared: every lookup but ``isnull`` is
    refused (FieldError), and code looks a number up by its digest (``Person.objects.with_id_number``)."""

    description = "居民身份证号（加密存储）"

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return idcrypto.decrypt(value)

    def to_python(self, value: Any) -> Any:
        if value is None:
            return value
        return str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return idcrypto.encrypt(idnumbers.normalize(value))

    def copy_getter(self, connection: Any, objs: list[Any]) -> Any:
        """What ``core.records`` copies for these rows: get_prep_value's ciphertext, encrypted as one batch."""
        attname, normalize = self.attname, idnumbers.normalize
        values = [getattr(obj, attname) for obj in objs]
        numbers = [normalize(v) for v in values if v is not None and v != ""]
        tokens = iter(idcrypto.encrypt_many(numbers))
        by_obj = {id(obj): (v if v is None or v == "" else next(tokens)) for obj, v in zip(objs, values, strict=True)}
        return lambda obj: by_obj[id(obj)]

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class IdNumberDigestField(models.Field):
    """The keyed hash of the number in ``source``, computed at every save (bulk inserts included)."""

    description = "居民身份证号摘要（HMAC-SHA256）"

    def __init__(self, *args: Any, source: str = "id_number", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.source != "id_number":
            kwargs["source"] = self.source
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "CharField"

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        number = idnumbers.normalize(getattr(model_instance, self.source))
        value = idcrypto.digest(number) if number else None
        setattr(model_instance, self.attname, value)
        return value

    def copy_getter(self, connection: Any, objs: list[Any]) -> Any:
        """What ``core.records`` copies for many rows: pre_save's digest, with the key read once."""
        digest = idcrypto.digester()
        source, attname, normalize = self.source, self.attname, idnumbers.normalize

        def get(obj: Any) -> Any:
            number = normalize(getattr(obj, source))
            value = digest(number) if number else None
            setattr(obj, attname, value)
            return value

        return get
