/* global AudioWorkletProcessor, registerProcessor */
// The microphone's samples, block by block, to the page (audio_input.js record): each
// render quantum's input channels mixed down to one float32 block and posted as it comes.

class Recorder extends AudioWorkletProcessor {
  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length) {
      const block = new Float32Array(channels[0].length);
      for (const x of channels) {
        for (let i = 0; i < block.length; i++) block[i] += x[i] / channels.length;
      }
      this.port.postMessage(block, [block.buffer]);
    }
    return true;
  }
}

registerProcessor('recorder', Recorder);
