// ddspgl's public API, the same for the script-tag bundle and the ES module. Importing it
// registers every kernel with TF.js. The kernels' ops come from the generated list
// (ddspgl.kernels.manifest: each kernel's js_module and js_exports).

import './register.js';

export {KERNELS as kernels, VERSION as version} from './generated/constants.js';
export * from './generated/ops.js';
export {setEarlyDisposal} from './early_disposal.js';
export {exactUpload, setExactUpload, textureShape as _textureShape} from './exact_upload.js';
export {registerGraphOps} from './graph_ops.js';
export {onPass as _onPass} from './pass_hook.js';
export {stats} from './passes.js';
export {
  requestWebGPUSubgroups, useWebGPUSubgroups as _useWebGPUSubgroups,
} from './webgpu_subgroups.js';
