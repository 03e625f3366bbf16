"""TF.js graph-model tools: `ddspgl convert`, `ddspgl compress`, `ddspgl fuse`, `ddspgl compact`.

- :mod:`.graph`: model.json and weight shards read, checked and written (atomically);
- :mod:`.compress`: constants rebuilt by Fill / ZerosLike / OnesLike / BroadcastTo / Tile,
  identical weights stored once, unused ones dropped;
- :mod:`.fuse`: wrapped phase cumsums (``FloorMod(Cumsum)``, magenta/ddsp
  ``angular_cumsum``) turned into the bundle's ``WrappedCumsum`` op;
- :mod:`.compact`: short node names, no control inputs or attrs TF.js never reads, dense
  model.json;
- :mod:`.convert`: tensorflowjs_converter, then the rewrites.

None of them imports TensorFlow; only the converter (``ddspgl[convert]``) needs it.
"""
