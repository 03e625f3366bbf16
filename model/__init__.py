"""TF.js graph-model tools: `ddspgl convert`, `ddspgl compress`, `ddspgl fuse`.

- :mod:`.graph`: model.json and weight shards read, checked and written (atomically);
- :mod:`.compress`: constants rebuilt by Fill / ZerosLike / OnesLike / BroadcastTo / Tile,
  identical weights stored once, unused ones dropped;
- :mod:`.fuse`: wrapped phase cumsums (``FloorMod(Cumsum)``, magenta/ddsp
  ``angular_cumsum``) turned into the bundle's ``WrappedCumsum`` op;
- :mod:`.convert`: tensorflowjs_converter, then both rewrites.

None of them imports TensorFlow; only the converter (``ddspgl[convert]``) needs it.
"""
